package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.policy.AddressLiterals;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.tls.ClientHello;
import dev.tollgate.daemon.upstream.ParentProxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The one admission gate of a listener, for forwarded requests, tunnels and intercepted tunnels alike. Two
 * steps, in this order (docs/policy.md):
 * <ol>
 * <li>{@link #admit}: what the request says. A loop ({@code Via}), the client ({@code allowClients}), its
 *     credentials (407), the destination's name ({@code denyDestinations} patterns) and, where a parent proxy
 *     resolves the name, the checks of {@link #checkDial} that need no address.</li>
 * <li>{@link #checkDial}: the address actually dialled, once resolved. This proxy's own sockets (508), the
 *     CONNECT port ({@code connectPorts}), this host ({@code allowLocalHost}) and the destination networks.</li>
 * </ol>
 * Each refusal is a {@link RequestRefusedException} with its status, outcome and one-line reason. A new rule is
 * added here (and in {@link AccessPolicy} for its configuration), never at a call site.
 */
public final class AdmissionGate {

    private final AccessPolicy policy;
    private final LoopGuard loopGuard;
    private final ProxyAuthenticator authenticator;
    private final ParentProxy parent;
    private final boolean reportsOnly;
    private final Limits limits;

    public AdmissionGate(AccessPolicy policy, LoopGuard loopGuard, ProxyAuthenticator authenticator,
                         ParentProxy parent) {
        this(policy, loopGuard, authenticator, parent, false);
    }

    public AdmissionGate(AccessPolicy policy, LoopGuard loopGuard, ProxyAuthenticator authenticator,
                         ParentProxy parent, boolean reportsOnly) {
        this(policy, loopGuard, authenticator, parent, reportsOnly, Limits.none());
    }

    /**
     * @param reportsOnly the listener's {@code mode: "report"}: refusals by the egress rules
     *                    ({@link RequestRefusedException#reportable()}) are handed to the exchange's
     *                    {@link WouldDeny} instead of thrown
     * @param limits      the listener's limits and their state, which outlive this gate across a reload
     */
    public AdmissionGate(AccessPolicy policy, LoopGuard loopGuard, ProxyAuthenticator authenticator,
                         ParentProxy parent, boolean reportsOnly, Limits limits) {
        this.limits = limits;
        this.policy = policy;
        this.loopGuard = loopGuard;
        this.authenticator = authenticator;
        this.parent = parent;
        this.reportsOnly = reportsOnly;
    }

    /**
     * Where a listener in report mode notes what an egress rule would have refused: the exchange's row says
     * {@code WOULD_DENY: <reason>} (the first such reason) with outcome OK.
     */
    @FunctionalInterface
    public interface WouldDeny {
        /** For checks whose exchange has no row to tell (a dial checked again): the reason is dropped. */
        WouldDeny NONE = reason -> {
        };

        void wouldDeny(String reason);
    }

    @FunctionalInterface
    private interface Check {
        void run() throws RequestRefusedException;
    }

    /** Runs a check; in report mode an egress rule's refusal goes to {@code sink} instead. */
    private void apply(Check check, WouldDeny sink) throws RequestRefusedException {
        try {
            check.run();
        } catch (RequestRefusedException refused) {
            if (!reportsOnly || !refused.reportable()) {
                throw refused;
            }
            sink.wouldDeny(refused.reason());
        }
    }

    /** What the request asks for: a request forwarded (plain or decrypted) or a tunnel (CONNECT). */
    public enum Exchange {
        FORWARD, TUNNEL, INTERCEPTED_TUNNEL;

        boolean isTunnel() {
            return this != FORWARD;
        }
    }

    /**
     * Step 1, on what the request says, before anything is resolved or dialled.
     *
     * @param method             the request's method ({@code CONNECT} for a tunnel)
     * @param via                the request's {@code Via} field values
     * @param client             the client's socket address
     * @param proxyAuthorization the request's {@code Proxy-Authorization}, or null
     * @param host               the destination's host, as asked for (a name or an address literal)
     * @param port               the destination's port
     * @param exchange           a forwarded request or a tunnel (which {@code connectPorts} applies to)
     * @return the authenticated user name, or null when the listener does not authenticate
     */
    public String admit(String method, Iterable<String> via, InetAddress client, String proxyAuthorization,
                        String host, int port, Exchange exchange) throws RequestRefusedException {
        return admit(method, via, client, proxyAuthorization, host, port, exchange, WouldDeny.NONE);
    }

    /** As {@link #admit(String, Iterable, InetAddress, String, String, int, Exchange)}, reporting to {@code sink}. */
    public String admit(String method, Iterable<String> via, InetAddress client, String proxyAuthorization,
                        String host, int port, Exchange exchange, WouldDeny sink) throws RequestRefusedException {
        loopGuard.checkVia(via);
        policy.checkClient(client);
        String username = authenticator.authenticate(proxyAuthorization);
        // Limits come after authentication (a user's bucket needs its name) and before every destination rule,
        // so that a client over its rate is not answered anything about where it may go.
        if (limits.checksRequests()) {
            apply(() -> limits.checkRequest(client, username, host), sink);
        }
        if (exchange == Exchange.FORWARD) {
            apply(() -> policy.checkMethod(method), sink);
        }
        apply(() -> policy.checkIpLiteral(host), sink);
        policy.checkDestinationName(host);
        if (!exchange.isTunnel() || policy.connectPortAllowed(port)) {
            // The name against allowDestinations, before it is resolved. A CONNECT to a port connectPorts refuses
            // is left to checkDial, which names the loop guard (508) or connectPorts first, as docs/policy.md says.
            apply(() -> policy.checkAllowedName(host), sink);
        }
        if (parent.appliesTo(host)) {
            // The parent resolves the name: the rules see the name, and the address of a literal.
            checkDial(host, AddressLiterals.parse(host), port, exchange, sink);
        } else if (reportsOnly && exchange == Exchange.FORWARD) {
            previewDial(host, port, sink);
        }
        return username;
    }

    /**
     * Report mode, forwarded requests: the address rules run again where Jetty's client dials
     * ({@code GuardedResolver}), on a connection that may serve many requests, where no request's row can be told
     * what they would have refused. So they are run here first, on the name resolved the same way, for this
     * request's row. Only the reportable rules are noted; the others refuse at the dial as always.
     */
    private void previewDial(String host, int port, WouldDeny sink) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                checkDial(host, address, port, Exchange.FORWARD, sink);
            }
        } catch (java.io.IOException refusedOrUnresolvable) {
            // Refused for good, or not resolvable: the dial says so, as it would in enforce mode.
        }
    }

    /**
     * Step 2, on the address that will be dialled ({@code address} null when a parent proxy resolves a name):
     * this proxy itself (508) before the port and destination rules (403), so that a request aimed at a listener
     * is named a loop whatever its port.
     */
    public void checkDial(String host, InetAddress address, int port, Exchange exchange) throws RequestRefusedException {
        checkDial(host, address, port, exchange, WouldDeny.NONE);
    }

    /** As {@link #checkDial(String, InetAddress, int, Exchange)}, reporting to {@code sink}. */
    public void checkDial(String host, InetAddress address, int port, Exchange exchange, WouldDeny sink)
            throws RequestRefusedException {
        if (address != null) {
            loopGuard.checkDestination(new InetSocketAddress(address, port));
        }
        if (exchange.isTunnel()) {
            apply(() -> policy.checkConnectPort(port), sink);
        }
        apply(() -> policy.checkDestination(host, address, exchange == Exchange.TUNNEL && policy.sniDecides(host)),
                sink);
    }

    /**
     * Whether a tunnel (not intercepted) to {@code host} must hold its client's first bytes until its ClientHello
     * is read, because a rule looks at it ({@link #checkClientHello}).
     */
    public boolean holdsClientHello(String host) {
        return policy.holdsClientHello(host, reportsOnly);
    }

    /**
     * Step 3, tunnels that are not intercepted: the client's ClientHello ({@code hello} null when none came in time),
     * against {@code tls.requireSniMatch} and, for an address literal, the domain patterns
     * ({@code tls.domainRulesOnSni}).
     */
    public void checkClientHello(String host, ClientHello hello) throws RequestRefusedException {
        checkClientHello(host, hello, WouldDeny.NONE);
    }

    /** As {@link #checkClientHello(String, ClientHello)}, reporting to {@code sink}. */
    public void checkClientHello(String host, ClientHello hello, WouldDeny sink) throws RequestRefusedException {
        apply(() -> policy.checkClientHello(host, hello), sink);
    }

    /**
     * Step 1 for a tunnel, right after {@link #admit}: counts it against the {@code maxTunnels} limits.
     *
     * @return the tunnel's place in the counts, to be released once when its record is made
     * @throws RequestRefusedException 429, RATE_LIMITED, over a {@code maxTunnels} (not in report mode)
     */
    public Limits.Lease openTunnel(InetAddress client, String username, String host, WouldDeny sink)
            throws RequestRefusedException {
        return limits.openTunnel(client, username, host, reportsOnly, sink);
    }

    /**
     * A tunnel's bytes about to be written on: the nanoseconds to wait first so that the user's tunnels keep to
     * {@code limits.perUser.bytesPerSecond}; in report mode 0, and {@code sink} told that it would have waited.
     */
    public long bandwidthWaitNanos(String username, int bytes, WouldDeny sink) {
        long wait = limits.bandwidthWaitNanos(username, bytes, !reportsOnly);
        if (wait > 0 && reportsOnly) {
            sink.wouldDeny("limits.perUser.bytesPerSecond: user \"" + username + "\" is over "
                    + limits.config().perUser().bytesPerSecond() + " bytes per second");
            return 0;
        }
        return wait;
    }

    /** How long a tunnel may stay open ({@code limits.maxTunnelLifetimeMs}), 0 for ever. */
    public long maxTunnelLifetimeMs() {
        return limits.maxTunnelLifetimeMs();
    }

    /**
     * A tunnel has been open for {@link #maxTunnelLifetimeMs}: the refusal to close it with, or null in report
     * mode, where {@code sink} is told instead and the tunnel goes on.
     */
    public RequestRefusedException tunnelLifetimeOver(WouldDeny sink) {
        String reason = "limits.maxTunnelLifetimeMs: the tunnel was open for " + limits.maxTunnelLifetimeMs()
                + " ms, its limit";
        if (reportsOnly) {
            sink.wouldDeny(reason);
            return null;
        }
        return RequestRefusedException.rateLimited(reason, 1);
    }

    /**
     * Whether {@code username} may still use this listener: false once it has left the users file (checked
     * afresh). A reload closes the open tunnels of such users.
     */
    public boolean knowsUser(String username) {
        return username == null || authenticator.knows(username);
    }

    /** Before the parent proxy itself is dialled: never one of this proxy's own sockets (508). */
    public void checkParentDial(InetSocketAddress parentAddress) throws RequestRefusedException {
        loopGuard.checkDestination(parentAddress);
    }

    /** Whether a parent proxy, not this one, resolves and dials {@code host}. */
    public boolean parentResolves(String host) {
        return parent.appliesTo(host);
    }
}
