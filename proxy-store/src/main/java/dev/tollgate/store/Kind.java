package dev.tollgate.store;

/** What the proxy did with a request: forwarded it, tunnelled it, or decrypted it inside a tunnel. */
public enum Kind {
    FORWARD,
    TUNNEL,
    INTERCEPT
}
