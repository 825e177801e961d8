package dev.tollgate.daemon.tunnel;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.exchange.AccessRecordSink;
import dev.tollgate.daemon.exchange.AccessRecorder;
import dev.tollgate.daemon.exchange.ClientHelloWatch;
import dev.tollgate.daemon.exchange.ExchangeFacts;
import dev.tollgate.daemon.exchange.RefusalResponse;
import dev.tollgate.daemon.exchange.TunnelSession;
import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.gate.ClientAddress;
import dev.tollgate.daemon.policy.HostAndPort;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.upstream.ParentProxy;
import dev.tollgate.daemon.upstream.UpstreamFailures;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ConnectHandler;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Scheduler;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Tunnels CONNECT requests (RFC 9110 9.3.6) through Jetty's ConnectHandler, overriding only its hooks:
 * policy and loop checks before dialling, the destination resolved once and checked on the address actually
 * dialled, 502/504 instead of Jetty's 500 when dialling fails, payload bytes counted in each direction, the
 * client's ClientHello read as it passes ({@link ClientHelloWatch}: held first only where a rule needs it), and
 * one access record per tunnel when it closes. Everything that is not CONNECT passes to the wrapped handler.
 * Past the usual size: the client side's connection carries the hold, which is the pipe's own read, and the
 * limits that act on a running tunnel (its lifetime, a user's bandwidth, which delays the pipe's writes); both
 * counting connections extend ConnectHandler's inner connection classes and report to this handler, so they stay
 * inside it.
 */
public class TunnelHandler extends ConnectHandler {

    private static final String SESSION = TunnelSession.class.getName();
    private static final int BAD_REQUEST = 400;

    static final int TUNNEL_BUFFER_BYTES = 64 * 1024;

    private final ListenerConfig config;
    private final AdmissionGate gate;
    private final String node;
    private final AccessRecordSink sink;
    private final OpenTunnels openTunnels;
    private final Drain drain;
    private final ParentProxy parent;
    private final Interception interception;

    /**
     * @param gate   the listener's admission gate, shared with its {@code ForwardProxyHandler}
     * @param parent the listener's parent proxy (the gate's too), which opens tunnels for the destinations it
     *               applies to
     */
    public TunnelHandler(Handler next, ListenerConfig config, AdmissionGate gate, ParentProxy parent, String node,
                         AccessRecordSink sink, OpenTunnels openTunnels, Drain drain, Interception interception) {
        super(next);
        this.interception = interception;
        this.config = config;
        this.gate = gate;
        this.parent = parent;
        this.node = node;
        this.sink = sink;
        this.openTunnels = openTunnels;
        this.drain = drain;
        setConnectTimeout(config.connectTimeoutMs());
        setIdleTimeout(config.idleTimeoutMs());
        // 64 KiB a read instead of Jetty's 4 KiB: a 1 GiB download went from 0.46 to 0.68 of the direct
        // connection's rate, at half the CPU per GiB (docs/performance.md). An idle tunnel holds no buffer, so
        // this costs nothing per idle tunnel. Larger is slower: Jetty's buffer pool keeps nothing above 64 KiB.
        setBufferSize(TUNNEL_BUFFER_BYTES);
    }

    /**
     * Called for each CONNECT: checks the target form, the Via header, the client, its credentials and the
     * destination's name, then dials.
     */
    @Override
    protected void handleConnect(Request request, Response response, Callback callback, String serverAddress) {
        request.setAttribute(ExchangeFacts.ATTRIBUTE, ExchangeFacts.tunnel());
        HostAndPort target = HostAndPort.parse(serverAddress);
        TunnelSession session = new TunnelSession(node, AccessRecorder.listenerName(request),
                Request.getRemoteAddr(request), Request.getRemotePort(request),
                request.getConnectionMetaData().getProtocol(), target.host(), target.port(), sink);
        request.setAttribute(SESSION, session);
        try {
            if (!target.valid()) {
                throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "CONNECT needs host:port as its"
                        + " target (RFC 9110 9.3.6), got \"" + serverAddress + "\"");
            }
            boolean intercepted = interception.intercepts(target.host());
            InetAddress client = ClientAddress.of(request);
            session.username = gate.admit(request.getMethod(), request.getHeaders().getValuesList(HttpHeader.VIA),
                    client, request.getHeaders().get(HttpHeader.PROXY_AUTHORIZATION), target.host(),
                    target.port(), intercepted ? AdmissionGate.Exchange.INTERCEPTED_TUNNEL
                            : AdmissionGate.Exchange.TUNNEL, session::wouldDeny);
            // Released by the session when its record is made, on every way it ends from here on.
            session.lease = gate.openTunnel(client, session.username, target.host(), session::wouldDeny);
            if (intercepted) {
                checkInterceptedDestination(target, session);
                openTunnels.add(session, drain);
                beginInterception(request, response, callback, session);
                return;
            }
        } catch (RequestRefusedException refused) {
            refuse(request, response, callback, session, refused);
            return;
        }
        session.clientHelloWatch = new ClientHelloWatch(target.host(), gate, session,
                config.tls().clientHelloTimeoutMs());
        super.handleConnect(request, response, new EstablishedResponseCallback(response, callback), serverAddress);
    }

    /**
     * Hands an admitted CONNECT to the interception, with what ends it from outside: the client's endpoint closed (a
     * limit, a user removed by a reload), and {@code limits.maxTunnelLifetimeMs} as one task on the scheduler,
     * cancelled when the tunnel closes.
     */
    private void beginInterception(Request request, Response response, Callback callback, TunnelSession session) {
        EndPoint client = request.getTunnelSupport().getEndPoint();
        java.util.concurrent.atomic.AtomicReference<Scheduler.Task> lifetime =
                new java.util.concurrent.atomic.AtomicReference<>();
        session.closer = client::close;
        interception.begin(request, response, callback, session, closed -> {
            Scheduler.Task task = lifetime.getAndSet(null);
            if (task != null) {
                task.cancel();
            }
            openTunnels.remove(closed);
        });
        long lifetimeMs = gate.maxTunnelLifetimeMs();
        if (lifetimeMs > 0) {
            lifetime.set(getScheduler().schedule(() -> lifetimeOver(session), lifetimeMs, TimeUnit.MILLISECONDS));
            if (session.isRecorded()) {
                Scheduler.Task task = lifetime.getAndSet(null);
                if (task != null) {
                    task.cancel();
                }
            }
        }
    }

    /**
     * Resolves once, then checks the address that will be dialled at the gate ({@link AdmissionGate#checkDial})
     * and dials exactly that address. Through a parent proxy, the parent resolves the name (the gate checked the
     * name, and the address of a literal, at admission) and the tunnel is asked of the parent on a pool thread.
     */
    @Override
    protected void connectToServer(Request request, String host, int port, Promise<SocketChannel> promise) {
        TunnelSession session = (TunnelSession) request.getAttribute(SESSION);
        if (parent.appliesTo(host)) {
            getExecutor().execute(() -> {
                try {
                    promise.succeeded(parent.openTunnel(host, port, config.connectTimeoutMs(), parentAddress -> {
                        gate.checkParentDial(parentAddress);
                        session.upstreamAddr = parentAddress.getAddress().getHostAddress();
                    }));
                } catch (Throwable failure) {
                    promise.failed(failure);
                }
            });
            return;
        }
        SocketChannel channel = null;
        try {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(host), port);
            gate.checkDial(host, address.getAddress(), port, AdmissionGate.Exchange.TUNNEL, session::wouldDeny);
            session.upstreamAddr = address.getAddress().getHostAddress();
            channel = SocketChannel.open();
            channel.socket().setTcpNoDelay(true);
            channel.configureBlocking(false);
            channel.connect(address);
            promise.succeeded(channel);
        } catch (Throwable failure) {
            closeQuietly(channel);
            promise.failed(failure);
        }
    }

    /**
     * The check {@link #connectToServer} makes before it dials, for a CONNECT that is intercepted instead: its
     * requests are dialled later, each checked again on the address then resolved (GuardedResolver), but the
     * CONNECT itself is refused now, as a tunnel would be, rather than answered 200. Through a parent, the gate
     * checked all it can at admission.
     */
    private void checkInterceptedDestination(HostAndPort target, TunnelSession session)
            throws RequestRefusedException {
        if (gate.parentResolves(target.host())) {
            return;
        }
        try {
            InetAddress address = InetAddress.getByName(target.host());
            session.upstreamAddr = address.getHostAddress();
            gate.checkDial(target.host(), address, target.port(), AdmissionGate.Exchange.INTERCEPTED_TUNNEL,
                    session::wouldDeny);
        } catch (IOException e) {
            throw UpstreamFailures.classify(e, target.host() + ":" + target.port(), false);
        }
    }

    /** Answers a failed dial with 502, 504 or the policy's status, instead of Jetty's 500. */
    @Override
    protected void onConnectFailure(Request request, Response response, Callback callback, Throwable failure) {
        if (callback instanceof EstablishedResponseCallback established) {
            callback = established.requestCallback;
        }
        TunnelSession session = (TunnelSession) request.getAttribute(SESSION);
        String destination = session == null ? "?" : session.host + ":" + session.port;
        refuse(request, response, callback, session, UpstreamFailures.classify(failure, destination, false));
    }

    /** Dials upstreams through Jetty's selector, with endpoints that report a reset instead of hiding it. */
    @Override
    protected SelectorManager newSelectorManager() {
        return new ConnectManager(getExecutor(), getScheduler(), 1) {
            @Override
            protected EndPoint newEndPoint(SelectableChannel channel, ManagedSelector selector, SelectionKey key) {
                EndPoint endPoint = new ResetReportingEndPoint((SocketChannel) channel, selector, key,
                        getScheduler());
                endPoint.setIdleTimeout(getIdleTimeout());
                return endPoint;
            }
        };
    }

    @Override
    protected void prepareContext(Request request, ConcurrentMap<String, Object> context) {
        TunnelSession session = (TunnelSession) request.getAttribute(SESSION);
        context.put(SESSION, session);
        openTunnels.add(session, drain);
    }

    @Override
    protected DownstreamConnection newDownstreamConnection(EndPoint endPoint, ConcurrentMap<String, Object> context) {
        return new CountingDownstreamConnection(endPoint, context);
    }

    @Override
    protected UpstreamConnection newUpstreamConnection(EndPoint endPoint, ConnectContext connectContext) {
        return new CountingUpstreamConnection(endPoint, connectContext);
    }

    private void refuse(Request request, Response response, Callback callback, TunnelSession session,
                        RequestRefusedException refused) {
        if (session != null) {
            if (refused.username() != null) {
                session.username = refused.username();
            }
            session.refused(refused.status(), refused.outcome(), refused.reason());
        }
        RefusalResponse.send(response, callback, refused);
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing more to release.
            }
        }
    }

    /** {@code limits.maxTunnelLifetimeMs} is up: closes the tunnel, or in report mode only notes it. */
    private void lifetimeOver(TunnelSession session) {
        RequestRefusedException over = gate.tunnelLifetimeOver(session::wouldDeny);
        if (over != null) {
            session.end(over);
        }
    }

    private static TunnelSession session(ConcurrentMap<String, Object> context) {
        return (TunnelSession) context.get(SESSION);
    }

    /**
     * {@code callback} of a write to one side's socket that is being issued now, telling the session first when
     * the write fails, and whether the end of stream had been read from that socket before it was issued: asked
     * here, not when the write fails, because once a write has met a reset the next read returns the end of
     * stream as if a FIN had come, and that read can run on another thread before this write's failure is
     * reported (TunnelSession.failed).
     */
    private Callback failureReporting(Callback callback, TunnelSession session, boolean upstreamSide) {
        boolean issuedAfterEndOfStream = session.endOfStreamWasRead(upstreamSide);
        return new Callback.Nested(callback) {
            @Override
            public void failed(Throwable failure) {
                reportFailure(session, upstreamSide, failure, issuedAfterEndOfStream);
                super.failed(failure);
            }
        };
    }

    /** A failed read or write, {@code issuedAfterEndOfStream} as TunnelSession.failed says (false for a read). */
    private void reportFailure(TunnelSession session, boolean upstreamSide, Throwable failure,
                               boolean issuedAfterEndOfStream) {
        // Past the drain's deadline the listener closes the tunnel itself: what fails then is no side's fault.
        if (!drain.isOver()) {
            session.failed(upstreamSide, failure, issuedAfterEndOfStream);
        }
    }

    /**
     * Runs a write on at once, or, over the user's {@code limits.perUser.bytesPerSecond}, later on the scheduler:
     * the pipe reads the next bytes from that side only once this write has completed, so a delayed write slows
     * the tunnel down without holding a thread.
     */
    private void throttled(TunnelSession session, ByteBuffer buffer, Runnable write) {
        long waitNanos = gate.bandwidthWaitNanos(session.username, buffer.remaining(), session::wouldDeny);
        if (waitNanos <= 0) {
            write.run();
        } else {
            getScheduler().schedule(write, waitNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void closed(TunnelSession session, boolean upstreamSide, Throwable cause) {
        session.clientHelloDone();
        // Past the drain's deadline the listener closes the tunnel itself (its connections then see a closed
        // channel): that is how a stop ends a tunnel, not an upstream reset or a client abort.
        session.connectionClosed(upstreamSide, drain.isOver() ? null : cause);
        if (session.isRecorded()) {
            openTunnels.remove(session);
        }
    }

    /**
     * Sends the 200 that establishes a tunnel as an ordinary last write, and completes the request only when that
     * write has completed. Jetty's ConnectHandler instead completes the request's callback with nothing written,
     * leaving Jetty to send the 200 as the channel's last write; in Jetty 12.1.14 that path can complete the
     * request twice when the upstream connection opens (on another thread) just as the handling thread returns:
     * the second completion meets a recycled channel (a NullPointerException in HttpChannelState.completeStream)
     * and the client's connection is closed right after its 200, the tunnel unused. The soak saw it about once
     * in a few hundred thousand tunnels (docs/reliability.md). An ordinary write followed by the callback is the
     * path every other response takes, where the handling thread and the completing thread decide under one lock.
     */
    private static final class EstablishedResponseCallback implements Callback {
        private final Response response;
        private final Callback requestCallback;

        EstablishedResponseCallback(Response response, Callback requestCallback) {
            this.response = response;
            this.requestCallback = requestCallback;
        }

        @Override
        public void succeeded() {
            response.write(true, null, requestCallback);
        }

        @Override
        public void failed(Throwable failure) {
            requestCallback.failed(failure);
        }

        @Override
        public InvocationType getInvocationType() {
            return requestCallback.getInvocationType();
        }
    }

    /** The client side: counts bytes from the client, including those that arrived with the CONNECT. */
    private final class CountingDownstreamConnection extends DownstreamConnection {
        private final TunnelSession session;
        /** The look at the ClientHello, or null (an intercepted tunnel has none). */
        private final ClientHelloWatch watch;
        /** The refusal of a ClientHello that came whole with the CONNECT: the tunnel closes as it opens. */
        private RequestRefusedException refusedEarly;
        /** Held bytes let through but not yet handed on (more than one read's buffer holds), or null. */
        private ByteBuffer released;
        private Scheduler.Task helloTimeout;
        private volatile Scheduler.Task lifetime;

        CountingDownstreamConnection(EndPoint endPoint, ConcurrentMap<String, Object> context) {
            super(endPoint, TunnelHandler.this.getExecutor(), TunnelHandler.this.getByteBufferPool(),
                    context);
            this.session = session(context);
            this.watch = session.clientHelloWatch;
            if (endPoint instanceof ResetReportingEndPoint client) {
                client.beforeClientSeesEnd(session::journalBeforeClientSeesEnd);
            }
            session.closer = this::end;
        }

        /** Closes both sides of the tunnel (from any thread): a limit or a reload ended it. */
        private void end(RequestRefusedException why) {
            close(why);
            getConnection().close();
        }

        /**
         * Bytes the client sent with its CONNECT, before the 200: the start of its ClientHello, maybe all of it. A
         * holding tunnel keeps them back (and, when they are the whole ClientHello, is judged at once).
         */
        @Override
        public void onUpgradeTo(ByteBuffer buffer) {
            if (buffer != null && buffer.hasRemaining()) {
                session.bytesFromClient.add(buffer.remaining());
                if (watch != null && watch.holding()) {
                    ByteBuffer held = watch.holdBuffer();
                    int from = held.limit();
                    BufferUtil.append(held, buffer);
                    if (watch.held(from, false)) {
                        try {
                            buffer = watch.release();
                        } catch (RequestRefusedException refused) {
                            refusedEarly = refused;
                            buffer = null;
                        }
                    } else {
                        buffer = null;
                    }
                } else if (watch != null) {
                    watch.observe(buffer);
                }
            }
            super.onUpgradeTo(buffer);
        }

        @Override
        public void onOpen() {
            if (refusedEarly != null) {
                super.onOpen();
                close(refusedEarly);
                getConnection().close();
                return;
            }
            if (watch != null && watch.holding()) {
                long timeoutMs = config.tls().clientHelloTimeoutMs();
                helloTimeout = getScheduler().schedule(this::clientHelloTimedOut, timeoutMs,
                        TimeUnit.MILLISECONDS);
            }
            long lifetimeMs = gate.maxTunnelLifetimeMs();
            if (lifetimeMs > 0) {
                // One task on the handler's scheduler per tunnel, cancelled when it closes: no thread per tunnel.
                lifetime = getScheduler().schedule(() -> lifetimeOver(session), lifetimeMs, TimeUnit.MILLISECONDS);
            }
            super.onOpen();
        }

        /** A holding tunnel whose ClientHello has not come in time is closed; one judged already goes on. */
        private void clientHelloTimedOut() {
            RequestRefusedException refused = watch.expire();
            if (refused != null) {
                close(refused);
                getConnection().close();
            }
        }

        /**
         * Reads what the client sent. A holding tunnel reads into its hold buffer and hands nothing on (0 bytes read)
         * until its ClientHello has been judged; then everything held at once, or, refused, nothing: the exception
         * closes both sides.
         */
        @Override
        protected int read(EndPoint endPoint, ByteBuffer buffer) throws IOException {
            if (released != null) {
                return handOn(buffer);
            }
            if (watch != null && watch.holding()) {
                ByteBuffer held = watch.holdBuffer();
                int from = held.limit();
                int read = count(endPoint, held);
                if (read == 0 || !watch.held(from, read < 0)) {
                    return read < 0 ? -1 : 0;
                }
                if (helloTimeout != null) {
                    helloTimeout.cancel();
                }
                released = watch.release();
                if (released == null || !released.hasRemaining()) {
                    released = null;
                    return read < 0 ? -1 : 0;
                }
                return handOn(buffer);
            }
            int at = buffer.limit();
            int read = count(endPoint, buffer);
            if (read > 0 && watch != null) {
                ByteBuffer fresh = buffer.duplicate();
                fresh.position(at);
                watch.observe(fresh);
            }
            return read;
        }

        /**
         * Hands on as much of the released bytes as {@code buffer} takes (all of them: a read's buffer,
         * TUNNEL_BUFFER_BYTES, is larger than what is held); the pipe reads again once it has been written.
         */
        private int handOn(ByteBuffer buffer) {
            int n = BufferUtil.append(buffer, released);
            if (!released.hasRemaining()) {
                released = null;
            }
            return n;
        }

        private int count(EndPoint endPoint, ByteBuffer buffer) throws IOException {
            int read;
            try {
                read = super.read(endPoint, buffer);
            } catch (IOException e) {
                reportFailure(session, false, e, false);
                throw e;
            }
            if (read > 0) {
                session.bytesFromClient.add(read);
            } else if (read < 0) {
                session.endOfStreamRead(false);
            }
            return read;
        }

        /** Writes what the client sent to the upstream's socket: a failure there is the upstream's. */
        @Override
        protected void write(EndPoint endPoint, ByteBuffer buffer, Callback callback) {
            throttled(session, buffer, () -> super.write(endPoint, buffer, failureReporting(callback, session,
                    true)));
        }

        /** While the listener drains, a quiet tunnel stays open until the drain's deadline. */
        @Override
        public boolean onIdleExpired(java.util.concurrent.TimeoutException timeout) {
            return !drain.keepsTunnelsOpen() && super.onIdleExpired(timeout);
        }

        @Override
        public void onClose(Throwable cause) {
            Scheduler.Task task = lifetime;
            if (task != null) {
                task.cancel();
            }
            super.onClose(cause);
            closed(session, false, cause);
        }
    }

    /** The upstream side: counts bytes from the origin, which are the bytes sent to the client. */
    private final class CountingUpstreamConnection extends UpstreamConnection {
        private final TunnelSession session;

        CountingUpstreamConnection(EndPoint endPoint, ConnectContext connectContext) {
            super(endPoint, TunnelHandler.this.getExecutor(), TunnelHandler.this.getByteBufferPool(),
                    connectContext);
            this.session = (TunnelSession) connectContext.getRequest().getAttribute(SESSION);
        }

        @Override
        protected int read(EndPoint endPoint, ByteBuffer buffer) throws IOException {
            int read;
            try {
                read = super.read(endPoint, buffer);
            } catch (IOException e) {
                reportFailure(session, true, e, false);
                throw e;
            }
            if (read > 0) {
                session.bytesToClient.add(read);
            } else if (read < 0) {
                session.endOfStreamRead(true);
            }
            return read;
        }

        /** Writes what the origin sent to the client's socket: a failure there is the client's. */
        @Override
        protected void write(EndPoint endPoint, ByteBuffer buffer, Callback callback) {
            throttled(session, buffer, () -> super.write(endPoint, buffer, failureReporting(callback, session,
                    false)));
        }

        @Override
        public void onClose(Throwable cause) {
            super.onClose(cause);
            closed(session, true, cause);
        }
    }
}
