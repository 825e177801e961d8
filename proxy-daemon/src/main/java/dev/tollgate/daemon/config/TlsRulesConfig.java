package dev.tollgate.daemon.config;

/**
 * What a listener does with the ClientHello of each tunnel it does not intercept (docs/policy.md, "Rules on the
 * ClientHello"). The ClientHello is always read as it passes, for the access log's sni, alpn, tls_version and ja4;
 * the rules below decide whether it must also be held until read, so that a tunnel can be refused before the
 * upstream sees a byte of it.
 *
 * @param clientHelloTimeoutMs how long, from the 200, a tunnel's ClientHello is waited for: past it, the columns
 *                             say what was seen, and a tunnel held for a rule is refused
 * @param requireSniMatch      whether the SNI must name the CONNECT host (case-insensitively, a trailing dot
 *                             ignored); a tunnel that does not start with TLS is refused too
 * @param allowMissingSni      with {@code requireSniMatch}, whether a ClientHello without SNI passes
 * @param domainRulesOnSni     whether, for a CONNECT to an IP address literal, the domain patterns of
 *                             {@code denyDestinations} and {@code allowDestinations} are applied to the SNI
 */
public record TlsRulesConfig(Long clientHelloTimeoutMs, Boolean requireSniMatch, Boolean allowMissingSni,
                             Boolean domainRulesOnSni) {

    public static final long DEFAULT_CLIENT_HELLO_TIMEOUT_MS = 5_000;
    public static final long MAX_CLIENT_HELLO_TIMEOUT_MS = 60_000;

    public TlsRulesConfig {
        clientHelloTimeoutMs = Checks.longInRange("clientHelloTimeoutMs", clientHelloTimeoutMs,
                DEFAULT_CLIENT_HELLO_TIMEOUT_MS, 1, MAX_CLIENT_HELLO_TIMEOUT_MS);
        requireSniMatch = requireSniMatch != null && requireSniMatch;
        if (allowMissingSni != null && allowMissingSni && !requireSniMatch) {
            throw new IllegalArgumentException("allowMissingSni: true means nothing without requireSniMatch: true");
        }
        allowMissingSni = allowMissingSni != null && allowMissingSni;
        domainRulesOnSni = domainRulesOnSni != null && domainRulesOnSni;
    }

    /** The defaults: every ClientHello read for the log, none held, no rule. */
    public static TlsRulesConfig defaults() {
        return new TlsRulesConfig(null, null, null, null);
    }
}
