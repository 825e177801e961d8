package dev.tollgate.daemon;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.exchange.AccessRecordSink;
import dev.tollgate.daemon.exchange.AccessRecorder;
import dev.tollgate.daemon.exchange.AdmissionHandler;
import dev.tollgate.daemon.exchange.OriginFormMarker;
import dev.tollgate.daemon.exchange.RequestHeadDeadline;
import dev.tollgate.daemon.forward.ForwardProxyHandler;
import dev.tollgate.daemon.gate.AccessPolicy;
import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.gate.Limits;
import dev.tollgate.daemon.gate.ProxyAuthenticator;
import dev.tollgate.daemon.intercept.TlsInterception;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.tls.LeafCertificates;
import dev.tollgate.daemon.tunnel.Drain;
import dev.tollgate.daemon.tunnel.Interception;
import dev.tollgate.daemon.tunnel.OpenTunnels;
import dev.tollgate.daemon.tunnel.ResetReportingConnector;
import dev.tollgate.daemon.tunnel.TunnelHandler;
import dev.tollgate.daemon.upstream.ParentProxy;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Builds what one listener is made of from its config: its connector and its handler chain. The
 * {@link ListenerManager} runs listeners (adds, binds, drains, removes them); this class only assembles one, with
 * what all listeners share: the node's loop guard, the record sink and request log, the open tunnels and the
 * interception CA. A new per-listener part (a handler, a limit on the connector) is wired here.
 */
final class ListenerAssembly {

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

    private final String node;
    private final LoopGuard loopGuard;
    private final AccessRecordSink sink;
    private final AccessRecorder recorder;
    private final OpenTunnels openTunnels;
    private final BooleanSupplier accessLogFull;
    /** This installation's interception CA and its leaf cache, shared by the listeners that intercept. */
    private final Supplier<LeafCertificates> leafCertificates;
    /**
     * Each listener's limits and their state (buckets, open tunnel counts), by name: they outlive a restart of the
     * listener (a reload), so that a bucket whose limit did not change keeps its tokens and the tunnels of the
     * old connector still count. Forgotten when the listener is removed.
     */
    private final Map<String, Limits> limits = new ConcurrentHashMap<>();
    /** The admission gate of each running listener's newest chain, by name. */
    private final Map<String, AdmissionGate> gates = new ConcurrentHashMap<>();

    /**
     * @param accessLogFull whether new requests must be refused (503) because the access log cannot take
     *                      their records
     */
    ListenerAssembly(String node, LoopGuard loopGuard, AccessRecordSink sink, AccessRecorder recorder,
                     OpenTunnels openTunnels, BooleanSupplier accessLogFull,
                     Supplier<LeafCertificates> leafCertificates) {
        this.node = node;
        this.loopGuard = loopGuard;
        this.sink = sink;
        this.recorder = recorder;
        this.openTunnels = openTunnels;
        this.accessLogFull = accessLogFull;
        this.leafCertificates = leafCertificates;
    }

    /**
     * The listener's connector, not yet started: strict HTTP/1.1 parsing, the request head's deadline and the
     * origin-form marker in front of Jetty's HTTP connection, TCP resets reported, and at most
     * {@code maxConnections} accepted.
     */
    ServerConnector newConnector(Server server, ListenerConfig config) {
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
        return connector;
    }

    /**
     * The listener's handler chain: {@link AdmissionHandler} (503 while the access log is full), then
     * {@link TunnelHandler} (CONNECT) in front of a {@link ForwardProxyHandler} (everything else), one
     * {@link AdmissionGate} shared by both. Throws IllegalArgumentException or UncheckedIOException when a file
     * the listener names cannot be read.
     */
    Handler newChain(ListenerConfig config, Drain drain) {
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

    /** The admission gate of the listener's newest chain, or null: whom its users file knows now. */
    AdmissionGate gate(String listener) {
        return gates.get(listener);
    }

    /** Forgets a removed listener's limits (their buckets and counts) and its gate. */
    void forget(String listener) {
        limits.remove(listener);
        gates.remove(listener);
    }
}
