package dev.tollgate.daemon.proxy;

import dev.tollgate.store.Outcome;

import java.io.IOException;

/**
 * Why Tollgate answers a request itself instead of forwarding it: the status, the access-log outcome and a
 * one-line reason a person can act on. An IOException so that it can fail Jetty's resolve and connect promises.
 */
public final class RequestRefusedException extends IOException {

    private final int status;
    private final Outcome outcome;
    private final String username;

    public RequestRefusedException(int status, Outcome outcome, String reason) {
        this(status, outcome, reason, null);
    }

    /** A refusal that knows who asked: a failed proxy authentication names the user tried. */
    public RequestRefusedException(int status, Outcome outcome, String reason, String username) {
        super(reason);
        this.status = status;
        this.outcome = outcome;
        this.username = username;
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
