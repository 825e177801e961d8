package dev.tollgate.daemon.policy;

import dev.tollgate.store.Outcome;

import java.io.IOException;

/**
 * Why Tollgate answers a request itself instead of forwarding it: the status, the access-log outcome and a
 * one-line reason a person can act on. An IOException so that it can fail Jetty's resolve and connect promises.
 */
public final class RequestRefusedException extends IOException {

    static final int TOO_MANY_REQUESTS = 429;

    private final int status;
    private final Outcome outcome;
    private final String username;
    private final boolean reportable;
    private final long retryAfterSeconds;

    public RequestRefusedException(int status, Outcome outcome, String reason) {
        this(status, outcome, reason, null);
    }

    /** A refusal that knows who asked: a failed proxy authentication names the user tried. */
    public RequestRefusedException(int status, Outcome outcome, String reason, String username) {
        this(status, outcome, reason, username, false);
    }

    private RequestRefusedException(int status, Outcome outcome, String reason, String username,
                                    boolean reportable) {
        this(status, outcome, reason, username, reportable, 0);
    }

    private RequestRefusedException(int status, Outcome outcome, String reason, String username,
                                    boolean reportable, long retryAfterSeconds) {
        super(reason);
        this.status = status;
        this.outcome = outcome;
        this.username = username;
        this.reportable = reportable;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /**
     * Over a limit (RFC 6585 4): 429 with {@code Retry-After} (RFC 9110 10.2.3) in whole seconds, at least 1;
     * reportable, so that a listener in report mode lets it through as {@code WOULD_DENY}.
     */
    public static RequestRefusedException rateLimited(String reason, long retryAfterSeconds) {
        return new RequestRefusedException(TOO_MANY_REQUESTS, Outcome.RATE_LIMITED, reason, null, true,
                Math.max(1, retryAfterSeconds));
    }

    /** The seconds a 429 asks the client to wait ({@code Retry-After}), or 0 for another refusal. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /**
     * A refusal by an egress rule, which a listener in report mode lets through as {@code WOULD_DENY}
     * (docs/policy.md, "Report mode").
     */
    public static RequestRefusedException byEgressRule(String reason) {
        return new RequestRefusedException(403, Outcome.DENIED, reason, null, true);
    }

    /** Whether a listener in report mode lets this refusal through ({@link #byEgressRule}). */
    public boolean reportable() {
        return reportable;
    }

    /** A refusal is an answer, not a bug: no stack trace to fill. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    public int status() {
        return status;
    }

    public Outcome outcome() {
        return outcome;
    }

    /** The user name the client gave, or null. */
    public String username() {
        return username;
    }

    public String reason() {
        return getMessage();
    }
}
