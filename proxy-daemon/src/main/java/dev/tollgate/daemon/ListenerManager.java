package dev.tollgate.daemon;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.proxy.AccessPolicy;
import dev.tollgate.daemon.proxy.AdmissionGate;
import dev.tollgate.daemon.proxy.AdmissionHandler;
import dev.tollgate.daemon.proxy.AccessRecordSink;
import dev.tollgate.daemon.proxy.AccessRecorder;
import dev.tollgate.daemon.proxy.Drain;
import dev.tollgate.daemon.proxy.ForwardProxyHandler;
import dev.tollgate.daemon.proxy.LoopGuard;
import dev.tollgate.daemon.proxy.OpenTunnels;
import dev.tollgate.daemon.proxy.OriginFormMarker;
import dev.tollgate.daemon.proxy.ParentProxy;
import dev.tollgate.daemon.proxy.ProxyAuthenticator;
import dev.tollgate.daemon.proxy.RequestHeadDeadline;
import dev.tollgate.daemon.proxy.ResetReportingConnector;
import dev.tollgate.daemon.proxy.TunnelHandler;
import dev.tollgate.daemon.proxy.Interception;
import dev.tollgate.daemon.proxy.Limits;
import dev.tollgate.daemon.proxy.RequestRefusedException;
import dev.tollgate.daemon.proxy.TunnelSession;
import dev.tollgate.store.Outcome;
import dev.tollgate.daemon.proxy.TlsInterception;
import dev.tollgate.daemon.tls.LeafCertificates;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * All proxy listeners on one Jetty server: one connector per running listener, each routed to its own chain:
 * {@link AdmissionHandler} (503 while the access log is full), then {@link TunnelHandler} (CONNECT) in front of
 * a {@link ForwardProxyHandler} (everything else). Listeners
 * can be added, stopped, started and removed while the server runs; reads never wait for a change in
 * progress.
 */
final class ListenerManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerManager.class);
    /** How long a stop waits, after the drain, for closed tunnels to hand over their records. */
    private static final long RECORD_WAIT_MS = 5_000;
    /**
     * Jetty's RFC 9110 mode with no violation allowed: its default still accepts a bare LF ending a request
     * line or a field line, which RFC 9112 2.2 permits (MAY) but which is the stuff of request smuggling when
     * two hops disagree on where a line ends. A proxy has no client that needs it.
     */
    private static final HttpCompliance STRICT_HTTP =
            HttpCompliance.RFC9110.without("RFC9110_NO_BARE_LF", HttpCompliance.Violation.LF_HEADER_TERMINATION)
                    // RFC 9112 3.2.2: a proxy given an absolute URI ignores Host and replaces it with the URI's
                    // authority, which is what the forwarding does (docs/reliability.md). Jetty's strict default
                    // would refuse the request instead, as an origin server may.
                    .with("TOLLGATE_PROXY", HttpCompliance.Violation.MISMATCHED_AUTHORITY);

    /** A listener the manager knows: its definition and where it came from, and its connector while running. */
    record Listener(ListenerConfig config, String origin, ServerConnector connector, Drain drain, Instant startedAt) {
        boolean running() {
            return connector != null;
        }
    }

    private final Server server;
    private final ListenerRouter router = new ListenerRouter();
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    // Listeners whose stop is draining: no other change to them until it is done.
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();
    private final List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final String node;
    private final LoopGuard loopGuard;
    private final AccessRecordSink sink;
    private final AccessRecorder recorder;
    private final OpenTunnels openTunnels = new OpenTunnels();
    /**
     * Each listener's limits and their state (buckets, open tunnel counts), by name: they outlive a restart of the
     * listener (a reload), so that a bucket whose limit did not change keeps its tokens and the tunnels of the
     * old connector still count. Forgotten when the listener is removed.
     */
    private final Map<String, Limits> limits = new ConcurrentHashMap<>();
    /** The admission gate of each running listener's newest chain, by name: whom its users file still knows. */
    private final Map<String, AdmissionGate> gates = new ConcurrentHashMap<>();
    private final long drainTimeoutMs;
    private final BooleanSupplier accessLogFull;
    /** This installation's interception CA and its leaf cache, shared by the listeners that intercept. */
    private final Supplier<LeafCertificates> leafCertificates;

    /**
     * @param accessLogFull whether new requests must be refused (503) because the access log cannot take
     *                      their records
     */
    ListenerManager(String node, LoopGuard loopGuard, AccessRecordSink sink, long drainTimeoutMs,
                    BooleanSupplier accessLogFull, Supplier<LeafCertificates> leafCertificates) {
        this.leafCertificates = leafCertificates;
        this.node = node;
        this.loopGuard = loopGuard;
        this.sink = sink;
        this.drainTimeoutMs = drainTimeoutMs;
        this.accessLogFull = accessLogFull;
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        threads.setName("tollgate-proxy");
        server = new Server(threads);
        server.setHandler(router);
        recorder = new AccessRecorder(node, sink);
        server.setRequestLog(recorder);
        server.setStopTimeout(drainTimeoutMs);
        server.setStopAtShutdown(false);
    }

    /** Starts the server with no listener yet. */
    void start() throws Exception {
        server.start();
    }

    /** Adds a listener and starts it; throws {@link ListenerException} when the name is taken or it cannot bind. */
    synchronized Listener add(ListenerConfig config, String origin) throws ListenerException {
        if (listeners.containsKey(config.name())) {
            throw new ListenerException(ListenerException.Reason.NAME_TAKEN, "a listener named \"" + config.name()
                    + "\" exists already");
        }
        listeners.put(config.name(), new Listener(config, origin, null, null, null));
        order.add(config.name());
        try {
            return start(config.name());
        } catch (ListenerException e) {
            listeners.remove(config.name());
            order.remove(config.name());
            throw e;
        }
    }

    /** Adds a listener in the stopped state (an API-made listener that was stopped before a restart). */
    synchronized Listener addStopped(ListenerConfig config, String origin) throws ListenerException {
        if (listeners.containsKey(config.name())) {
            throw new ListenerException(ListenerException.Reason.NAME_TAKEN, "a listener named \"" + config.name()
                    + "\" exists already");
        }
        Listener listener = new Listener(config, origin, null, null, null);
        listeners.put(config.name(), listener);
        order.add(config.name());
        return listener;
    }

    /** Binds a stopped listener and starts routing to a new chain for it. */
    synchronized Listener start(String name) throws ListenerException {
        Listener listener = require(name);
        if (listener.running()) {
            throw new ListenerException(ListenerException.Reason.ALREADY, "listener \"" + name + "\" is running"
                    + " already");
        }
        return bind(listener.config(), listener.origin());
    }

    private Listener bind(ListenerConfig config, String origin) throws ListenerException {
        String name = config.name();
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setIdleTimeout(config.idleTimeoutMs());
        http.setHttpCompliance(STRICT_HTTP);
        ServerConnector connector = new ResetReportingConnector(server, new OriginFormMarker(http,
                new RequestHeadDeadline(config.requestHeaderTimeoutMs(), node, config.name(), sink)));
        connector.setName(config.name());
        connector.setHost(config.host());
        connector.setPort(config.port());
        connector.setIdleTimeout(config.idleTimeoutMs());
        // At maxConnections the connector stops accepting: the next connection waits in the kernel's accept
        // queue (its TCP handshake done, nothing read) until an open one closes.
        connector.addBean(new NetworkConnectionLimit(config.maxConnections(), connector));
        Drain drain = new Drain();
        Handler chain;
        try {
            chain = newChain(config, drain);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            // The users file, the parent's password file, intercept.trustBundle or the interception CA cannot be
            // read (or the CA cannot be made).
            throw new ListenerException(ListenerException.Reason.INVALID, "listener " + name + ": "
                    + e.getMessage());
        }
        try {
            router.add(connector, chain);
            server.addConnector(connector);
            connector.start();
        } catch (Exception e) {
            server.removeConnector(connector);
            removeChain(connector);
            throw new ListenerException(ListenerException.Reason.CANNOT_BIND, "listener " + name
                    + ": cannot listen on " + config.host() + ":" + config.port() + " (" + rootMessage(e) + ")");
        }
        loopGuard.addOwnPort(connector.getLocalPort());
        Listener started = new Listener(config, origin, connector, drain, Instant.now());
        listeners.put(name, started);
        LOG.info("{} - listening on {}:{}", name, config.host(), connector.getLocalPort());
        return started;
    }

    /**
     * Stops accepting at once (new connections are refused), lets open requests and tunnels finish for up to
     * {@code drainMs}, then closes what is left and waits for the tunnels' records.
     */
    Listener stop(String name, long drainMs) throws ListenerException {
        Retiring retiring = retire(name, drainMs);
        try {
            retiring.finish();
            Listener stopped = new Listener(retiring.listener.config(), retiring.listener.origin(), null, null, null);
            synchronized (this) {
                listeners.put(name, stopped);
            }
            LOG.info("{} - stopped", name);
            return stopped;
        } finally {
            stopping.remove(name);
        }
    }

    /** Stops (if running) and forgets a listener. */
    void remove(String name, long drainMs) throws ListenerException {
        synchronized (this) {
            require(name);
        }
        if (get(name).map(Listener::running).orElse(false)) {
            stop(name, drainMs);
        }
        synchronized (this) {
            require(name);
            listeners.remove(name);
            order.remove(name);
            limits.remove(name);
            gates.remove(name);
        }
    }

    /**
     * Starts a listener's change (a reload): a running one stops accepting at once and its successor, built from
     * {@code config}, binds right after (the listening socket is closed first, so the same address is free);
     * a stopped one just takes the new definition. The old connector's open requests and tunnels drain while
     * the new one serves: call {@link Retiring#finish()} on the result, if any, to wait for them.
     *
     * @return the old connector, still draining, or null when the listener was stopped; when the successor
     *         could not bind, {@link Retiring#successorFailure()} says why and the listener is left stopped with
     *         its new definition
     * @throws ListenerException when the listener is unknown or busy
     */
    Retiring replace(ListenerConfig config, long drainMs) throws ListenerException {
        String name = config.name();
        Retiring retiring;
        synchronized (this) {
            Listener old = require(name);
            if (!old.running()) {
                listeners.put(name, new Listener(config, old.origin(), null, null, null));
                return null;
            }
            retiring = retire(name, drainMs);
        }
        try {
            synchronized (this) {
                listeners.put(name, new Listener(config, retiring.listener.origin(), null, null, null));
                bind(config, retiring.listener.origin());
            }
        } catch (ListenerException e) {
            LOG.warn("{} - its new definition cannot start: {}", name, e.getMessage());
            retiring.successorFailure = e;
        } finally {
            stopping.remove(name);
        }
        return retiring;
    }

    /**
     * Starts a listener's removal (a reload): it stops accepting at once and is forgotten once
     * {@link Retiring#finish()} on the result has drained it.
     */
    Retiring retireForRemoval(String name, long drainMs) throws ListenerException {
        synchronized (this) {
            Listener listener = require(name);
            if (!listener.running()) {
                listeners.remove(name);
                order.remove(name);
                limits.remove(name);
                gates.remove(name);
                return null;
            }
            Retiring retiring = retire(name, drainMs);
            retiring.thenForget = true;
            return retiring;
        }
    }

    /** Marks the listener busy, begins its drain and closes its listening socket. */
    private synchronized Retiring retire(String name, long drainMs) throws ListenerException {
        Listener listener = require(name);
        if (!listener.running()) {
            throw new ListenerException(ListenerException.Reason.ALREADY, "listener \"" + name + "\" is stopped"
                    + " already");
        }
        stopping.add(name);
        LOG.info("{} - stopping on {}:{}, draining for up to {} ms", name, listener.config().host(),
                listener.connector().getLocalPort(), drainMs);
        listener.drain().begin(drainMs);
        // Closes the listening socket at once (Jetty's network connectors do so on shutdown) and tells open
        // connections to close after their current request.
        return new Retiring(listener, listener.connector().shutdown(), drainMs);
    }

    /** A connector that has stopped accepting and drains what it has open. */
    final class Retiring {
        private final Listener listener;
        private final java.util.concurrent.CompletableFuture<Void> drained;
        private final long drainMs;
        private boolean thenForget;
        private ListenerException successorFailure;

        private Retiring(Listener listener, java.util.concurrent.CompletableFuture<Void> drained, long drainMs) {
            this.listener = listener;
            this.drained = drained;
            this.drainMs = drainMs;
        }

        String name() {
            return listener.config().name();
        }

        /** Why the listener's new definition could not start (a reload), or null. */
        ListenerException successorFailure() {
            return successorFailure;
        }

        /**
         * Waits for the drain (at most its deadline), closes what is left, stops the connector and its chain,
         * and waits for its tunnels' records.
         */
        void finish() {
            String name = name();
            ServerConnector connector = listener.connector();
            int port = connector.getLocalPort();
            try {
                drained.get(drainMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.info("{} - drain time over: closing {} open connection(s)", name,
                        connector.getConnectedEndPoints().size());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.warn("{} - drain ended early", name, e);
            }
            try {
                connector.stop();
            } catch (Exception e) {
                LOG.warn("{} - stopping the connector failed", name, e);
            }
            synchronized (ListenerManager.this) {
                server.removeConnector(connector);
                removeChain(connector);
                Listener current = listeners.get(name);
                boolean successorHasPort = current != null && current.running() && current.connector() != connector
                        && current.connector().getLocalPort() == port;
                if (!successorHasPort) {
                    loopGuard.removeOwnPort(port);
                }
            }
            awaitTunnelRecords(listener.drain());
            if (thenForget) {
                synchronized (ListenerManager.this) {
                    listeners.remove(name);
                    order.remove(name);
                    stopping.remove(name);
                    limits.remove(name);
                    gates.remove(name);
                }
                LOG.info("{} - stopped and removed", name);
            } else {
                LOG.info("{} - old connector on port {} drained and closed", name, port);
            }
        }
    }

    Optional<Listener> get(String name) {
        return Optional.ofNullable(listeners.get(name));
    }

    /** Every listener in the order it was added. */
    List<Listener> all() {
        List<Listener> all = new ArrayList<>();
        for (String name : order) {
            Listener listener = listeners.get(name);
            if (listener != null) {
                all.add(listener);
            }
        }
        return all;
    }

    /** The port a running listener actually bound, or -1. */
    int boundPort(String name) {
        Listener listener = listeners.get(name);
        return listener == null || !listener.running() ? -1 : listener.connector().getLocalPort();
    }

    /** Client connections open now on a listener (tunnels included). */
    long activeConnections(String name) {
        Listener listener = listeners.get(name);
        return listener == null || !listener.running() ? 0 : listener.connector().getConnectedEndPoints().size();
    }

    OpenTunnels openTunnels() {
        return openTunnels;
    }

    /**
     * Graceful stop of every listener at once: stop accepting, let open requests and tunnels finish within
     * the drain timeout, close what is left and wait for the tunnels' records.
     */
    @Override
    public synchronized void close() throws Exception {
        LOG.info("stopping {} listener(s), draining for up to {} ms", server.getConnectors().length,
                drainTimeoutMs);
        for (Listener listener : listeners.values()) {
            if (listener.running()) {
                listener.drain().begin(drainTimeoutMs);
            }
        }
        server.stop();
        for (Listener listener : listeners.values()) {
            if (listener.running()) {
                loopGuard.removeOwnPort(listener.connector().getLocalPort());
                removeChain(listener.connector());
            }
        }
        if (!openTunnels.awaitNone(RECORD_WAIT_MS)) {
            LOG.warn("{} tunnel(s) had not recorded their close when the listeners stopped", openTunnels.count());
        }
    }

    /**
     * Closes the open tunnels whose user has left its listener's users file (read afresh now), each recorded
     * DENIED with the reason. A reload calls it, so that removing a user and reloading ends what that user has
     * open; without a reload the user's next request is refused (407) but open tunnels go on.
     *
     * @return how many tunnels were closed
     */
    int closeTunnelsOfRemovedUsers() {
        int closed = 0;
        Map<String, Boolean> known = new java.util.HashMap<>();
        for (TunnelSession session : openTunnels.snapshot()) {
            String user = session.username();
            AdmissionGate gate = gates.get(session.listener());
            if (user == null || gate == null
                    || known.computeIfAbsent(session.listener() + "\0" + user, k -> gate.knowsUser(user))) {
                continue;
            }
            if (session.end(new RequestRefusedException(403, Outcome.DENIED, "auth: user \"" + user + "\" is no"
                    + " longer in the users file (config reload): its open tunnel was closed"))) {
                closed++;
            }
        }
        if (closed > 0) {
            LOG.info("closed {} tunnel(s) of user(s) removed from the users file", closed);
        }
        return closed;
    }

    private void awaitTunnelRecords(Drain drain) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RECORD_WAIT_MS);
        while (openTunnels.count(drain) > 0 && System.nanoTime() < deadline) {
            try {
                openTunnels.awaitChange(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void removeChain(ServerConnector connector) {
        try {
            router.remove(connector);
        } catch (Exception e) {
            LOG.warn("{} - stopping its handlers failed", connector.getName(), e);
        }
    }

    /** The listener, unless there is none of that name (NOT_FOUND) or it is draining right now (ALREADY). */
    private Listener require(String name) throws ListenerException {
        Listener listener = listeners.get(name);
        if (listener == null) {
            throw new ListenerException(ListenerException.Reason.NOT_FOUND, "no listener named \"" + name + "\"");
        }
        if (stopping.contains(name)) {
            throw new ListenerException(ListenerException.Reason.ALREADY, "listener \"" + name + "\" is stopping"
                    + " (draining) right now");
        }
        return listener;
    }

    private Handler newChain(ListenerConfig config, Drain drain) {
        ParentProxy parent = ParentProxy.of(config.upstreamProxy());
        Limits listenerLimits = limits.computeIfAbsent(config.name(), name -> new Limits());
        listenerLimits.configure(config.limits());
        AdmissionGate gate = new AdmissionGate(new AccessPolicy(config), loopGuard,
                ProxyAuthenticator.of(config.auth()), parent, config.reportsOnly(), listenerLimits);
        gates.put(config.name(), gate);
        ForwardProxyHandler forward = new ForwardProxyHandler(config, gate, parent, loopGuard);
        Interception interception = config.intercept().enabled()
                ? new TlsInterception(config.intercept(), leafCertificates.get()) : Interception.OFF;
        return new AdmissionHandler(new TunnelHandler(forward, config, gate, parent, node, sink, openTunnels, drain,
                interception), accessLogFull, config.logQuery(), recorder);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
