package dev.tollgate.daemon;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.exchange.AccessRecordSink;
import dev.tollgate.daemon.exchange.AccessRecorder;
import dev.tollgate.daemon.exchange.TunnelSession;
import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import dev.tollgate.daemon.tls.LeafCertificates;
import dev.tollgate.daemon.tunnel.Drain;
import dev.tollgate.daemon.tunnel.OpenTunnels;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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
 * All proxy listeners on one Jetty server: one connector per running listener, each routed to its own chain, both
 * made by {@link ListenerAssembly}. Listeners can be added, stopped, started and removed while the server runs;
 * reads never wait for a change in progress.
 * <p>
 * Past 400 lines on purpose: what is left is the listeners' lifecycle under this one lock (add, bind, stop,
 * replace, retire), and {@link Retiring} finishes a drain under the same lock, on the same maps; split apart,
 * the lock would have to be shared across classes.
 */
final class ListenerManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerManager.class);
    /** How long a stop waits, after the drain, for closed tunnels to hand over their records. */
    private static final long RECORD_WAIT_MS = 5_000;
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
    private final LoopGuard loopGuard;
    private final OpenTunnels openTunnels = new OpenTunnels();
    private final ListenerAssembly assembly;
    private final long drainTimeoutMs;

    /**
     * @param accessLogFull whether new requests must be refused (503) because the access log cannot take
     *                      their records
     */
    ListenerManager(String node, LoopGuard loopGuard, AccessRecordSink sink, long drainTimeoutMs,
                    BooleanSupplier accessLogFull, Supplier<LeafCertificates> leafCertificates) {
        this.loopGuard = loopGuard;
        this.drainTimeoutMs = drainTimeoutMs;
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        threads.setName("tollgate-proxy");
        server = new Server(threads);
        server.setHandler(router);
        AccessRecorder recorder = new AccessRecorder(node, sink);
        server.setRequestLog(recorder);
        assembly = new ListenerAssembly(node, loopGuard, sink, recorder, openTunnels, accessLogFull, leafCertificates);
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
        ServerConnector connector = assembly.newConnector(server, config);
        Drain drain = new Drain();
        Handler chain;
        try {
            chain = assembly.newChain(config, drain);
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
            assembly.forget(name);
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
                assembly.forget(name);
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
                    assembly.forget(name);
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
        Map<String, Boolean> known = new HashMap<>();
        for (TunnelSession session : openTunnels.snapshot()) {
            String user = session.username();
            AdmissionGate gate = assembly.gate(session.listener());
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

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
