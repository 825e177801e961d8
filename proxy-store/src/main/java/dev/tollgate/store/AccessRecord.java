package dev.tollgate.store;

import java.util.Objects;

/**
 * The one event: a forwarded request, a tunnel, an intercepted request or a refused request, with the
 * columns of table {@code access_log}. The access-log writer, the live stats and the metrics all consume
 * this same record.
 *
 * @param id                the row id once stored (the paging cursor), {@code null} before
 * @param tsMs              when the request arrived, epoch milliseconds (UTC)
 * @param durationMs        until the response ended or the tunnel closed
 * @param node              the daemon's node name
 * @param listener          the listener's name
 * @param clientAddr        the client's IP address
 * @param clientPort        the client's port
 * @param username          the proxy-auth user, or {@code null}
 * @param kind              FORWARD, TUNNEL or INTERCEPT
 * @param protocol          the client's protocol (HTTP/1.0, HTTP/1.1), {@code null} when unparseable
 * @param method            the request method, {@code null} when unparseable
 * @param host              destination host, {@code null} when there is none
 * @param port              destination port, or 0 when there is none
 * @param path              the path (forwarded and intercepted requests only), or {@code null}
 * @param status            the status sent to the client
 * @param bytesFromClient   body (tunnel: payload) bytes received from the client
 * @param bytesToClient     body (tunnel: payload) bytes sent to the client
 * @param upstreamAddr      the IP address actually dialled, or {@code null}
 * @param sni               the TLS server name the client sent (tunnels and intercepted tunnels), or {@code null}
 * @param outcome           how it ended
 * @param reason            one line saying why, for anything but OK; {@code null} for OK
 * @param alpn              tunnels: the ALPN protocols the client's ClientHello offered, comma-separated, or
 *                          {@code null}
 * @param tlsVersion        tunnels: the highest TLS version the ClientHello offered ({@code TLSv1.3}), {@code none}
 *                          when the client's first bytes were not TLS, {@code unknown} when no whole ClientHello
 *                          came within the bounds, {@code null} when the client sent nothing in time (or for a
 *                          request)
 * @param ja4               tunnels: the ClientHello's JA4 fingerprint, or {@code null}
 */
public record AccessRecord(
        Long id,
        long tsMs,
        long durationMs,
        String node,
        String listener,
        String clientAddr,
        int clientPort,
        String username,
        Kind kind,
        String protocol,
        String method,
        String host,
        int port,
        String path,
        int status,
        long bytesFromClient,
        long bytesToClient,
        String upstreamAddr,
        String sni,
        Outcome outcome,
        String reason,
        String alpn,
        String tlsVersion,
        String ja4) {

    public AccessRecord {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** A record without what a ClientHello tells (requests, refusals, and every record made before V10). */
    public AccessRecord(Long id, long tsMs, long durationMs, String node, String listener, String clientAddr,
                        int clientPort, String username, Kind kind, String protocol, String method, String host,
                        int port, String path, int status, long bytesFromClient, long bytesToClient,
                        String upstreamAddr, String sni, Outcome outcome, String reason) {
        this(id, tsMs, durationMs, node, listener, clientAddr, clientPort, username, kind, protocol, method, host,
                port, path, status, bytesFromClient, bytesToClient, upstreamAddr, sni, outcome, reason, null, null,
                null);
    }

    /** This record as stored under the given row id. */
    public AccessRecord withId(long rowId) {
        return new AccessRecord(rowId, tsMs, durationMs, node, listener, clientAddr, clientPort, username, kind,
                protocol, method, host, port, path, status, bytesFromClient, bytesToClient, upstreamAddr, sni,
                outcome, reason, alpn, tlsVersion, ja4);
    }
}
