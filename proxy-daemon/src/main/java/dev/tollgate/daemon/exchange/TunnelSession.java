package dev.tollgate.daemon.exchange;

import dev.tollgate.daemon.gate.Limits;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.tls.ClientHello;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One CONNECT tunnel from request to close: payload bytes counted by viewpoint, and exactly one access record,
 * emitted when both of its connections have closed (or at once, when the tunnel was never established).
 */
public final class TunnelSession {

    private static final int ESTABLISHED = 200;
    /** How a row in report mode starts its reason: the exchange passed, a rule would have refused it. */
    public static final String WOULD_DENY = "WOULD_DENY: ";
    /** Request attribute of each decrypted request of an intercepted tunnel: the tunnel's session. */
    public static final String INTERCEPTED_ATTRIBUTE = TunnelSession.class.getName() + ".intercepted";

    final long tsMs = System.currentTimeMillis();
    final String node;
    public final String listener;
    final String clientAddr;
    final int clientPort;
    final String protocol;
    public final String host;
    public final int port;
    public final LongAdder bytesFromClient = new LongAdder();
    public final LongAdder bytesToClient = new LongAdder();
    public volatile String upstreamAddr;
    /** Intercepted tunnels: the TLS server name the client sent, or null (then the CONNECT host names it). */
    public volatile String sni;
    /** What the client's ClientHello said (intercepted tunnels too), or null while nothing has been read. */
    public volatile ClientHello clientHello;
    /** Tunnels not intercepted: the look at the client's first bytes, or null (refused, intercepted). */
    public volatile ClientHelloWatch clientHelloWatch;
    /** Intercepted tunnels: the decrypted requests recorded as INTERCEPT rows. */
    final LongAdder interceptedRequests = new LongAdder();
    /** Report mode: what the first egress rule to object would have refused, or null. */
    private final java.util.concurrent.atomic.AtomicReference<String> wouldDeny =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** The proxy-auth user: the authenticated one, or the one a failed attempt named. */
    public volatile String username;
    /** The first side to fail, as the row will say it, or null while none has. */
    private final java.util.concurrent.atomic.AtomicReference<Failure> firstFailure =
            new java.util.concurrent.atomic.AtomicReference<>();

    private record Failure(Outcome outcome, String reason) {
    }

    /** Takes the first-failure place of a side whose reset met a write issued after its FIN: the row says OK. */
    private static final Failure FINISHED_THEN_CLOSED = new Failure(Outcome.OK, null);
    /** Whether the end of stream has been read from the client's socket, from the upstream's. */
    private volatile boolean clientEndOfStreamRead;
    private volatile boolean upstreamEndOfStreamRead;
    /** The tunnel's place in the listener's {@code maxTunnels} counts, released with its record; or null. */
    public volatile Limits.Lease lease;
    /** Closes the tunnel's client side (and so the tunnel) with a refusal; null until it is established or intercepted. */
    public volatile java.util.function.Consumer<RequestRefusedException> closer;
    private final AtomicInteger closedConnections = new AtomicInteger();
    private final AtomicBoolean recorded = new AtomicBoolean();
    private final AccessRecordSink sink;
    // Guarded by this: the record journaled when the client could first see the tunnel end.
    private AccessRecord journaled;

    public TunnelSession(String node, String listener, String clientAddr, int clientPort, String protocol, String host,
                  int port, AccessRecordSink sink) {
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

    /** {@code https://host:port}, the origin of an intercepted tunnel's requests. */
    public String origin() {
        return "https://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Whether this tunnel's one record has been handed over. */
    public boolean isRecorded() {
        return recorded.get();
    }

    /** Called when a read from one side's socket returns the end of stream. */
    public void endOfStreamRead(boolean upstreamSide) {
        if (upstreamSide) {
            upstreamEndOfStreamRead = true;
        } else {
            clientEndOfStreamRead = true;
        }
    }

    /**
     * Whether the end of stream had been read from one side's socket: asked as a write to that socket is issued,
     * for {@link #failed}. Not proof of a FIN by itself: on Linux, once a write has met a side's reset, the next
     * read from that socket returns the end of stream too.
     */
    public boolean endOfStreamWasRead(boolean upstreamSide) {
        return upstreamSide ? upstreamEndOfStreamRead : clientEndOfStreamRead;
    }

    /**
     * Called when reading from or writing to one side's socket fails: the first side to fail is the one the row
     * blames. When one side aborts, the proxy closes the other, which can then fail too, as a consequence, not a
     * cause; and a side's failure may surface in the other side's connection object (its write to this side's
     * socket), which is why failures are reported per socket, not per connection. An idle timeout is no failure.
     * <p>
     * For a failed write, {@code issuedAfterEndOfStream} says whether the end of stream had been read from that
     * socket before the write was issued ({@link #endOfStreamWasRead}, asked then; false for a read). If it had,
     * that side sent its FIN and closed its socket, and its kernel answered the bytes still coming with a reset,
     * which failed this write: the tunnel ended as that side meant it to, and the row says OK (taking the
     * first-failure place, so that what the other connection sees as the proxy closes it is a consequence, as after
     * an abort). The snapshot is what makes this safe: a write that itself met a reset makes the next read return
     * the end of stream, but that read comes after the write was issued, and the relay issues no write to a socket
     * after one to it has failed.
     */
    public void failed(boolean upstreamSide, Throwable cause, boolean issuedAfterEndOfStream) {
        if (cause != null && !(cause instanceof java.util.concurrent.TimeoutException)) {
            firstFailure.compareAndSet(null, issuedAfterEndOfStream ? FINISHED_THEN_CLOSED : upstreamSide
                    ? new Failure(Outcome.UPSTREAM_RESET, "upstream connection failed: " + cause)
                    : new Failure(Outcome.CLIENT_ABORT, "client connection failed: " + cause));
        }
    }

    /**
     * Called when the client-side or the upstream-side connection of an established tunnel closes; the second
     * call records the tunnel. A close with a cause that no read or write reported counts as that side failing.
     */
    public void connectionClosed(boolean upstreamSide, Throwable cause) {
        failed(upstreamSide, cause, false);
        if (closedConnections.incrementAndGet() == 2) {
            Failure failure = firstFailure.get();
            if (failure == null) {
                finish(ESTABLISHED, Outcome.OK, null);
            } else {
                finish(ESTABLISHED, failure.outcome(), failure.reason());
            }
        }
    }

    /**
     * Called once when the client's TLS connection of an intercepted tunnel closes: records the tunnel with the
     * TLS bytes each way. A handshake that failed after Tollgate sent its certificate is the client refusing it
     * (OpenSSL and the JDK end it with an alert, sometimes one Jetty can only report as unreadable); one that
     * failed before is a client that does not speak TLS, or none of our versions and ciphers.
     */
    public void interceptionClosed(long tlsBytesFromClient, long tlsBytesToClient, Throwable handshakeFailure,
                            boolean certificateSent, Throwable cause) {
        bytesFromClient.add(Math.max(0, tlsBytesFromClient));
        bytesToClient.add(Math.max(0, tlsBytesToClient));
        String name = sni != null ? sni : host;
        Failure ended = firstFailure.get();
        if (ended != null) {
            // Ended from outside (end): a limit or a reload closed it, whatever the TLS connection then saw.
            finish(ESTABLISHED, ended.outcome(), ended.reason() + "; intercepted: " + interceptedRequests.sum()
                    + " request(s) recorded as INTERCEPT rows");
            return;
        }
        if (handshakeFailure != null) {
            String message = String.valueOf(handshakeFailure.getMessage());
            if (certificateSent) {
                finish(ESTABLISHED, Outcome.CLIENT_TLS_REJECTED, "intercepted, but the client rejected the"
                        + " certificate Tollgate made for " + name + " (" + message + "): it does not trust"
                        + " Tollgate's CA, or it pins its certificates (see intercept.bypass)");
            } else {
                finish(ESTABLISHED, Outcome.CLIENT_TLS_REJECTED, "intercepted, but the TLS handshake with the"
                        + " client failed (" + message + ")");
            }
            return;
        }
        if (sni == null && interceptedRequests.sum() == 0 && tlsBytesFromClient <= 0) {
            finish(ESTABLISHED, Outcome.CLIENT_ABORT, "intercepted, but the client closed the connection before"
                    + " its TLS handshake");
            return;
        }
        finish(ESTABLISHED, Outcome.OK, "intercepted: TLS decrypted with a certificate for " + name + "; "
                + interceptedRequests.sum() + " request(s) recorded as INTERCEPT rows"
                + (cause == null || cause instanceof java.util.concurrent.TimeoutException ? ""
                : " (connection ended: " + cause + ")"));
    }

    /** Called once the client's first bytes have been read (or waited for): the row's sni, alpn, tls_version, ja4. */
    void sawClientHello(ClientHello hello) {
        clientHello = hello;
        if (hello != null && hello.sni() != null) {
            sni = hello.sni();
        }
    }

    /**
     * Called when a rule on the ClientHello refuses an established tunnel, before it is closed: the row says DENIED
     * with the rule, whatever the closing then makes either side see.
     */
    void deniedAfterEstablished(String reason) {
        firstFailure.compareAndSet(null, new Failure(Outcome.DENIED, reason));
    }

    /**
     * Ends an established tunnel from outside its connections (a limit, a user removed by a reload): the row says
     * the refusal's outcome and reason, whatever the closing then makes either side see. False when the tunnel
     * cannot be ended this way (not established yet, or recorded already).
     */
    public boolean end(RequestRefusedException why) {
        java.util.function.Consumer<RequestRefusedException> close = closer;
        if (close == null || recorded.get()) {
            return false;
        }
        firstFailure.compareAndSet(null, new Failure(why.outcome(), why.reason()));
        close.accept(why);
        return true;
    }

    /** The user the tunnel was opened for, or null. */
    public String username() {
        return username;
    }

    /** Report mode: an egress rule would have refused this tunnel; the first one is the row's. */
    public void wouldDeny(String reason) {
        wouldDeny.compareAndSet(null, reason);
    }

    /** Ends the look at the ClientHello, if one is still going on: the row says what was seen. */
    public void clientHelloDone() {
        ClientHelloWatch watch = clientHelloWatch;
        if (watch != null) {
            watch.closed();
        }
    }

    /** Records a tunnel that was refused or failed before it was established. */
    public void refused(int status, Outcome outcome, String reason) {
        finish(status, outcome, reason);
    }

    /**
     * Called just before the client can first see an established tunnel end (a FIN once the client has finished
     * sending, or the connection closed): the tunnel's record, with what is known now, goes into the journal, so
     * that a crash right after loses no row of a tunnel whose close the client saw. A tunnel the upstream
     * half-closes first stays open for what the client still sends, and is journaled when it closes.
     */
    public synchronized void journalBeforeClientSeesEnd() {
        if (recorded.get() || journaled != null) {
            return;
        }
        clientHelloDone();
        Failure failure = firstFailure.get();
        journaled = failure == null ? newRecord(ESTABLISHED, Outcome.OK, null)
                : newRecord(ESTABLISHED, failure.outcome(), failure.reason());
        sink.journal(journaled);
    }

    private synchronized void finish(int status, Outcome outcome, String reason) {
        if (!recorded.compareAndSet(false, true)) {
            return;
        }
        Limits.Lease taken = lease;
        if (taken != null) {
            // Every way a tunnel ends passes here once: refused, failed to dial, closed, intercepted.
            taken.release();
        }
        if (journaled != null) {
            sink.ended(journaled);
            return;
        }
        sink.accept(newRecord(status, outcome, reason));
    }

    private AccessRecord newRecord(int status, Outcome outcome, String reason) {
        ClientHello hello = clientHello;
        String wouldHaveDenied = wouldDeny.get();
        if (wouldHaveDenied != null && outcome == Outcome.OK) {
            reason = WOULD_DENY + wouldHaveDenied + (reason == null ? "" : "; " + reason);
        }
        return AccessRecord.tunnel(node, listener)
                .timing(tsMs, System.currentTimeMillis())
                .client(clientAddr, clientPort)
                .username(username)
                .protocol(protocol)
                .destination(host, port)
                .status(status)
                .bytes(bytesFromClient.sum(), bytesToClient.sum())
                .upstreamAddr(upstreamAddr)
                .sni(sni)
                .outcome(outcome, reason)
                .clientHello(hello == null ? null : hello.alpnText(), hello == null ? null : hello.tlsVersion(),
                        hello == null ? null : hello.ja4())
                .build();
    }
}
