package dev.tollgate.daemon.exchange;

import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;

/**
 * What the forwarding path learned about one request, carried as a request attribute to
 * {@link AccessRecorder}, which writes the access record once the response is complete. A request without
 * facts never reached Tollgate's code: Jetty's parser rejected it.
 */
public final class ExchangeFacts {

    public static final String ATTRIBUTE = ExchangeFacts.class.getName();

    /** Set for CONNECT: the tunnel writes its own record when it closes, so the request log skips it. */
    final boolean recordedByTunnel;
    final boolean logQuery;
    volatile Outcome outcome = Outcome.OK;
    volatile String reason;
    public volatile String upstreamAddr;
    /** The proxy-auth user: the authenticated one, or the one a failed attempt named. */
    public volatile String username;
    /** The intercepted tunnel this request was decrypted from (an INTERCEPT row), or null. */
    public volatile TunnelSession intercepted;
    /** Report mode: what the first egress rule to object would have refused, or null. */
    public volatile String wouldDeny;
    /** Set when the client's request body failed: the answer and outcome, whatever the upstream did next. */
    public volatile RequestRefusedException clientFailure;

    private ExchangeFacts(boolean recordedByTunnel, boolean logQuery) {
        this.recordedByTunnel = recordedByTunnel;
        this.logQuery = logQuery;
    }

    public static ExchangeFacts forward(boolean logQuery) {
        return new ExchangeFacts(false, logQuery);
    }

    public static ExchangeFacts tunnel() {
        return new ExchangeFacts(true, false);
    }

    /** Notes a refusal; one that names a user (a failed proxy authentication) keeps it for the row. */
    public void refused(RequestRefusedException refused) {
        refused(refused.outcome(), refused.reason());
        if (refused.username() != null) {
            this.username = refused.username();
        }
    }

    public void refused(Outcome refusedOutcome, String refusedReason) {
        this.outcome = refusedOutcome;
        this.reason = refusedReason;
    }
}
