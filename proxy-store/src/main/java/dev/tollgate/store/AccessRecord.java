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

    /**
     * A record without what a ClientHello tells, column by column: kept for the store's tests and benchmarks,
     * which lay out rows of every kind. The daemon makes its records with the factory of their kind.
     */
    public AccessRecord(Long id, long tsMs, long durationMs, String node, String listener, String clientAddr,
                        int clientPort, String username, Kind kind, String protocol, String method, String host,
                        int port, String path, int status, long bytesFromClient, long bytesToClient,
                        String upstreamAddr, String sni, Outcome outcome, String reason) {
        this(id, tsMs, durationMs, node, listener, clientAddr, clientPort, username, kind, protocol, method, host,
                port, path, status, bytesFromClient, bytesToClient, upstreamAddr, sni, outcome, reason, null, null,
                null);
    }

    /**
     * A forwarded request's record (kind FORWARD), made once by the daemon's request log when the exchange ends;
     * also the kind of a request Jetty's parser rejected ({@link #parserRejection}) and of a head that timed out
     * ({@link #headTimeout}).
     */
    public static Builder forwarded(String node, String listener) {
        return new Builder(node, listener, Kind.FORWARD);
    }

    /**
     * A request decrypted inside an intercepted tunnel (kind INTERCEPT), with the tunnel's SNI name; made once by
     * the daemon's request log, like a forwarded one.
     */
    public static Builder intercepted(String node, String listener, String sni) {
        return new Builder(node, listener, Kind.INTERCEPT).sni(sni);
    }

    /**
     * A CONNECT tunnel's record (kind TUNNEL, method CONNECT), made once by its session when the tunnel closes or
     * is refused; an intercepted tunnel's own row is one too.
     */
    public static Builder tunnel(String node, String listener) {
        return new Builder(node, listener, Kind.TUNNEL).method("CONNECT");
    }

    /**
     * A request whose head did not arrive in time: 408, CLIENT_TIMEOUT, nothing of the request line (it was not
     * read). Made once by the connection's head deadline, which then keeps the parser from making a second.
     */
    public static Builder headTimeout(String node, String listener, String reason) {
        return new Builder(node, listener, Kind.FORWARD).status(408).outcome(Outcome.CLIENT_TIMEOUT, reason);
    }

    /**
     * A request Jetty's parser rejected before any handler saw it (400, 414, 431, 505): BAD_REQUEST, of kind TUNNEL
     * when its method is CONNECT, else FORWARD. Made once by the daemon's request log.
     *
     * @param method the method as parsed, or {@code null} when the request line itself was not
     */
    public static Builder parserRejection(String node, String listener, String method, int status, String reason) {
        Kind kind = "CONNECT".equals(method) ? Kind.TUNNEL : Kind.FORWARD;
        return new Builder(node, listener, kind).method(method).status(status).outcome(Outcome.BAD_REQUEST, reason);
    }

    /**
     * The columns of one record, set by name; {@link #build} makes the record. Obtained from the factory of its
     * kind ({@link #forwarded}, {@link #intercepted}, {@link #tunnel}, {@link #headTimeout},
     * {@link #parserRejection}); what a setter is not called for stays {@code null} or 0.
     */
    public static final class Builder {
        private final String node;
        private final String listener;
        private final Kind kind;
        private long tsMs;
        private long endMs;
        private String clientAddr;
        private int clientPort;
        private String username;
        private String protocol;
        private String method;
        private String host;
        private int port;
        private String path;
        private int status;
        private long bytesFromClient;
        private long bytesToClient;
        private String upstreamAddr;
        private String sni;
        private Outcome outcome;
        private String reason;
        private String alpn;
        private String tlsVersion;
        private String ja4;

        private Builder(String node, String listener, Kind kind) {
            this.node = node;
            this.listener = listener;
            this.kind = kind;
        }

        /** When the exchange began and ended, epoch milliseconds: the row's ts and its duration (never negative). */
        public Builder timing(long startMs, long endMs) {
            this.tsMs = startMs;
            this.endMs = endMs;
            return this;
        }

        public Builder client(String clientAddr, int clientPort) {
            this.clientAddr = clientAddr;
            this.clientPort = clientPort;
            return this;
        }

        public Builder username(String username) {
            this.username = username;
            return this;
        }

        public Builder protocol(String protocol) {
            this.protocol = protocol;
            return this;
        }

        public Builder method(String method) {
            this.method = method;
            return this;
        }

        /** The destination's host and port (0 when there is none). */
        public Builder destination(String host, int port) {
            this.host = host;
            this.port = port;
            return this;
        }

        public Builder path(String path) {
            this.path = path;
            return this;
        }

        public Builder status(int status) {
            this.status = status;
            return this;
        }

        /** Body (tunnel: payload) bytes received from and sent to the client. */
        public Builder bytes(long bytesFromClient, long bytesToClient) {
            this.bytesFromClient = bytesFromClient;
            this.bytesToClient = bytesToClient;
            return this;
        }

        public Builder upstreamAddr(String upstreamAddr) {
            this.upstreamAddr = upstreamAddr;
            return this;
        }

        public Builder sni(String sni) {
            this.sni = sni;
            return this;
        }

        /** How it ended, and the one line saying why ({@code null} for OK). */
        public Builder outcome(Outcome outcome, String reason) {
            this.outcome = outcome;
            this.reason = reason;
            return this;
        }

        /** Tunnels: what the client's ClientHello offered (alpn, tls_version, ja4), each {@code null} if unknown. */
        public Builder clientHello(String alpn, String tlsVersion, String ja4) {
            this.alpn = alpn;
            this.tlsVersion = tlsVersion;
            this.ja4 = ja4;
            return this;
        }

        public AccessRecord build() {
            return new AccessRecord(null, tsMs, Math.max(0, endMs - tsMs), node, listener, clientAddr, clientPort,
                    username, kind, protocol, method, host, port, path, status, bytesFromClient, bytesToClient,
                    upstreamAddr, sni, outcome, reason, alpn, tlsVersion, ja4);
        }
    }

    /** This record as stored under the given row id. */
    public AccessRecord withId(long rowId) {
        return new AccessRecord(rowId, tsMs, durationMs, node, listener, clientAddr, clientPort, username, kind,
                protocol, method, host, port, path, status, bytesFromClient, bytesToClient, upstreamAddr, sni,
                outcome, reason, alpn, tlsVersion, ja4);
    }
}
