package dev.tollgate.store;

/** How a request or tunnel ended, as an auditor reads it. Anything but {@link #OK} comes with a reason. */
public enum Outcome {
    OK,
    DENIED,
    AUTH_REQUIRED,
    AUTH_FAILED,
    LOOP,
    BAD_REQUEST,
    UPSTREAM_UNREACHABLE,
    UPSTREAM_TIMEOUT,
    UPSTREAM_RESET,
    CLIENT_ABORT,
    /**
     * Answered 408: the client did not send its request head within the listener's requestHeaderTimeoutMs, or
     * its request body stopped arriving for requestBodyStallTimeoutMs.
     */
    CLIENT_TIMEOUT,
    /** Refused with 503 because the access log could not take another record: nothing un-audited is forwarded. */
    OVERLOADED,
    /** An intercepted tunnel whose client refused the TLS handshake with Tollgate's certificate (TUNNEL rows). */
    CLIENT_TLS_REJECTED,
    /** Answered 502: the upstream's TLS certificate failed verification (intercepted requests). */
    UPSTREAM_TLS_INVALID,
    /**
     * Over one of the listener's limits (docs/policy.md, "Rate and concurrency limits"): a request or CONNECT
     * answered 429 with Retry-After, or a tunnel closed at its maximum lifetime; the reason names the limit.
     */
    RATE_LIMITED
}
