package dev.tollgate.daemon.proxy;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * One CONNECT tunnel from request to close: payload bytes counted by viewpoint, and exactly one access record,
 * emitted when both of its connections have closed (or at once, when the tunnel was never established).
 */
public final class TunnelSession {

    private static final int ESTABLISHED = 200;

    final long tsMs = System.currentTimeMillis();
    final String node;
    final String listener;
    final String clientAddr;
    final int clientPort;
    final String protocol;
    final String host;
    final int port;
    final LongAdder bytesFromClient = new LongAdder();
    final LongAdder bytesToClient = new LongAdder();
    volatile String upstreamAddr;
    /** The proxy-auth user: the authenticated one, or the one a failed attempt named. */
    volatile String username;
    /** The reason of the first side to fail ("client connection failed: ..."), or null while none has. */
    private final java.util.concurrent.atomic.AtomicReference<String> firstFailure =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final AtomicInteger closedConnections = new AtomicInteger();
    private final AtomicBoolean recorded = new AtomicBoolean();
    private final Consumer<AccessRecord> sink;

    TunnelSession(String node, String listener, String clientAddr, int clientPort, String protocol, String host,
                  int port, Consumer<AccessRecord> sink) {
        this.node = node;
        this.listener = listener;
        this.clientAddr = clientAddr;
        this.clientPort = clientPort;
        this.protocol = protocol;
        this.host = host;
        this.port = port;
        this.sink = sink;
    }

    public String listener() {
        return listener;
    }

    public int clientPort() {
        return clientPort;
    }

    public String upstreamAddr() {
        return upstreamAddr;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String clientAddr() {
        return clientAddr;
    }

    public long tsMs() {
        return tsMs;
    }

    public long bytesFromClient() {
        return bytesFromClient.sum();
    }

    public long bytesToClient() {
        return bytesToClient.sum();
    }

    /** Whether this tunnel's one record has been handed over. */
    boolean isRecorded() {
        return recorded.get();
    }

    /**
     * Called when the client-side or the upstream-side connection of an established tunnel closes. The first
     * side to fail is the one the row blames: when one side aborts, the proxy closes the other, which can then
     * fail too (a reset from the echoing peer), as a consequence, not a cause. An idle timeout is no failure.
     */
    void connectionClosed(boolean upstreamSide, Throwable cause) {
        if (cause != null && !(cause instanceof java.util.concurrent.TimeoutException)) {
            firstFailure.compareAndSet(null, (upstreamSide ? "upstream" : "client") + " connection failed: "
                    + cause);
        }
        if (closedConnections.incrementAndGet() == 2) {
            String reason = firstFailure.get();
            Outcome outcome = reason == null ? Outcome.OK
                    : reason.startsWith("upstream") ? Outcome.UPSTREAM_RESET : Outcome.CLIENT_ABORT;
            finish(ESTABLISHED, outcome, reason);
        }
    }

    /** Records a tunnel that was refused or failed before it was established. */
    void refused(int status, Outcome outcome, String reason) {
        finish(status, outcome, reason);
    }

    private void finish(int status, Outcome outcome, String reason) {
        if (!recorded.compareAndSet(false, true)) {
            return;
        }
        sink.accept(new AccessRecord(null, tsMs, Math.max(0, System.currentTimeMillis() - tsMs), node, listener,
                clientAddr, clientPort, username, Kind.TUNNEL, protocol, "CONNECT", host, port, null, status,
                bytesFromClient.sum(), bytesToClient.sum(), upstreamAddr, null, outcome, reason));
    }
}
