package dev.tollgate.daemon.tls;

import java.util.List;

/**
 * What a tunnel's client said in its TLS ClientHello, read as it passed (never decrypted), or why nothing could be
 * read. The fields are the access log's columns {@code sni}, {@code alpn}, {@code tls_version} and {@code ja4}.
 *
 * @param tlsVersion the highest version offered ({@code supported_versions}, else the legacy version), as
 *                   {@code TLSv1.3}; {@link #NOT_TLS} when the client's first bytes are not a TLS handshake;
 *                   {@link #UNREADABLE} when they start like one but no whole ClientHello arrived within the bounds
 * @param sni        the server name (RFC 6066 3), or null when the client sent none
 * @param alpn       the protocols offered (RFC 7301), in the client's order; empty when none
 * @param ja4        the JA4 fingerprint (FoxIO), or null when there is no ClientHello
 * @param problem    for {@link #NOT_TLS} and {@link #UNREADABLE}, one line saying what was seen; else null
 */
public record ClientHello(String tlsVersion, String sni, List<String> alpn, String ja4, String problem) {

    /** {@link #tlsVersion()} of a tunnel whose client's first bytes are not a TLS handshake record. */
    public static final String NOT_TLS = "none";
    /** {@link #tlsVersion()} of a tunnel that started with TLS but whose ClientHello could not be read whole. */
    public static final String UNREADABLE = "unknown";

    public ClientHello {
        alpn = alpn == null ? List.of() : List.copyOf(alpn);
    }

    static ClientHello notTls(String problem) {
        return new ClientHello(NOT_TLS, null, List.of(), null, problem);
    }

    static ClientHello unreadable(String problem) {
        return new ClientHello(UNREADABLE, null, List.of(), null, problem);
    }

    /** Whether a ClientHello was read (else {@link #problem()} says why not). */
    public boolean isTls() {
        return ja4 != null;
    }

    /** The ALPN list as the access log stores it: comma-separated, or null when the client offered none. */
    public String alpnText() {
        return alpn.isEmpty() ? null : String.join(",", alpn);
    }
}
