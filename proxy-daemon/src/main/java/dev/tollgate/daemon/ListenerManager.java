package dev.tollgate.daemon;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.proxy.AccessPolicy;
import dev.tollgate.daemon.proxy.AccessRecorder;
import dev.tollgate.daemon.proxy.ForwardProxyServlet;
import dev.tollgate.daemon.proxy.LoopGuard;
import dev.tollgate.daemon.proxy.OpenTunnels;
import dev.tollgate.daemon.proxy.OriginFormMarker;
import dev.tollgate.daemon.proxy.TunnelHandler;
import dev.tollgate.store.AccessRecord;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * All proxy listeners on one Jetty server: one connector per listener, each routed to its own chain of
 * {@link TunnelHandler} (CONNECT) in front of a {@link ForwardProxyServlet} (everything else).
 */
final class ListenerManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerManager.class);

    private final Server server;
    private final ListenerRouter router = new ListenerRouter();
    private final Map<String, RunningListener> running = new LinkedHashMap<>();
    private final String node;
    private final LoopGuard loopGuard;
    private final Consumer<AccessRecord> sink;
    private final OpenTunnels openTunnels = new OpenTunnels();
    private final long drainTimeoutMs;

    ListenerManager(String node, LoopGuard loopGuard, Consumer<AccessRecord> sink, long drainTimeoutMs) {
        this.node = node;
        this.loopGuard = loopGuard;
        this.sink = sink;
        this.drainTimeoutMs = drainTimeoutMs;
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        threads.setName("tollgate-proxy");
        server = new Server(threads);
        server.setHandler(router);
        server.setRequestLog(new AccessRecorder(node, sink));
        server.setStopTimeout(drainTimeoutMs);
        server.setStopAtShutdown(false);
    }

    /** Starts the server with the given listeners; throws (naming the listener) when one cannot bind. */
    synchronized void start(List<ListenerConfig> listeners) throws Exception {
        server.start();
        for (ListenerConfig listener : listeners) {
            startListener(listener);
        }
    }

    /** Binds one listener and starts routing to its chain. */
    synchronized void startListener(ListenerConfig config) throws Exception {
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setIdleTimeout(config.idleTimeoutMs());
        ServerConnector connector = new ServerConnector(server, new OriginFormMarker(http));
        connector.setName(config.name());
        connector.setHost(config.host());
        connector.setPort(config.port());
        connector.setIdleTimeout(config.idleTimeoutMs());

        Handler chain = newChain(config);
        router.add(connector, chain);
        server.addConnector(connector);
        try {
            connector.start();
        } catch (Exception e) {
            server.removeConnector(connector);
            router.remove(connector);
            throw new IllegalStateException("listener " + config.name() + ": cannot listen on " + config.host() + ":"
                    + config.port() + " (" + bindFailure(e) + ")", e);
        }
        loopGuard.addOwnPort(connector.getLocalPort());
        running.put(config.name(), new RunningListener(config, connector));
        LOG.info("{} - listening on {}:{}", config.name(), config.host(), connector.getLocalPort());
    }

    /**
     * Jetty's "Failed to bind to /host:port" plus the reason underneath it ("Address already in use",
     * "Permission denied"), which is what an operator needs to act on.
     */
    private static String bindFailure(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = String.valueOf(e.getMessage());
        return root == e || root.getMessage() == null || message.contains(root.getMessage()) ? message
                : message + ": " + root.getMessage();
    }

    /** The port a running listener actually bound, or -1. */
    synchronized int boundPort(String name) {
        RunningListener listener = running.get(name);
        return listener == null ? -1 : listener.connector.getLocalPort();
    }

    OpenTunnels openTunnels() {
        return openTunnels;
    }

    /**
     * Stops accepting on every listener at once, lets open requests and tunnels finish within the drain
     * timeout, then closes what is left and waits for the tunnels' records.
     */
    @Override
    public synchronized void close() throws Exception {
        LOG.info("stopping {} listener(s), draining for up to {} ms", running.size(), drainTimeoutMs);
        server.stop();
        for (RunningListener listener : running.values()) {
            loopGuard.removeOwnPort(listener.connector.getLocalPort());
            router.remove(listener.connector);
        }
        running.clear();
        if (!openTunnels.awaitNone(TimeUnit.SECONDS.toMillis(5))) {
            LOG.warn("{} tunnel(s) had not recorded their close when the listeners stopped", openTunnels.count());
        }
    }

    private Handler newChain(ListenerConfig config) {
        AccessPolicy policy = new AccessPolicy(config);
        ServletContextHandler context = new ServletContextHandler("/", false, false);
        ServletHolder proxy = new ServletHolder(new ForwardProxyServlet(config, policy, loopGuard));
        proxy.setAsyncSupported(true);
        proxy.setInitParameter("viaHost", loopGuard.viaToken());
        proxy.setInitParameter("idleTimeout", Long.toString(config.idleTimeoutMs()));
        // No total exchange timeout: a long download is fine as long as bytes keep flowing (idleTimeout).
        proxy.setInitParameter("timeout", "0");
        proxy.setInitParameter("maxThreads", "-");
        context.addServlet(proxy, "/*");
        return new TunnelHandler(context, config, policy, loopGuard, node, sink, openTunnels);
    }

    private record RunningListener(ListenerConfig config, ServerConnector connector) {
    }
}
