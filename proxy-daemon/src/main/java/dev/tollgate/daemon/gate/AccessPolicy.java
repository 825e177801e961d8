package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.config.PortRanges;
import dev.tollgate.daemon.policy.AddressLiterals;
import dev.tollgate.daemon.policy.Cidr;
import dev.tollgate.daemon.policy.DestinationRule;
import dev.tollgate.daemon.policy.HostAndPort;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.policy.ThisHost;
import dev.tollgate.daemon.tls.ClientHello;
import dev.tollgate.store.Outcome;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * One listener's rules: which clients may use it, which destinations it may reach (names checked on the name
 * asked for, networks on the address actually dialled; deny wins over allow) and which ports CONNECT may reach.
 * Each check throws a {@link RequestRefusedException} whose reason names the rule, e.g.
 * {@code denyDestinations[2]: 169.254.0.0/16}.
 */
public final class AccessPolicy {

    private static final int FORBIDDEN = 403;

    private final List<Cidr> allowClients;
    private final List<DestinationRule> allowDestinations;
    private final List<DestinationRule> denyDestinations;
    private final boolean allowLocalHost;
    private final List<int[]> connectPorts = new ArrayList<>();
    private final String connectPortsText;
    private final boolean denyIpLiterals;
    private final List<String> allowMethods;
    private final boolean requireSniMatch;
    private final boolean allowMissingSni;
    private final boolean domainRulesOnSni;
    private final long clientHelloTimeoutMs;

    public AccessPolicy(ListenerConfig config) {
        this.allowClients = config.allowClients().stream().map(Cidr::parse).toList();
        this.allowDestinations = DestinationRule.parseAll("allowDestinations", config.allowDestinations());
        this.denyDestinations = DestinationRule.parseAll("denyDestinations", config.denyDestinations());
        this.allowLocalHost = config.allowLocalHost();
        for (Object entry : config.connectPorts()) {
            connectPorts.add(PortRanges.bounds(entry));
        }
        this.connectPortsText = config.connectPorts().toString();
        this.denyIpLiterals = config.denyIpLiterals();
        this.allowMethods = config.allowMethods();
        this.requireSniMatch = config.tls().requireSniMatch();
        this.allowMissingSni = config.tls().allowMissingSni();
        this.domainRulesOnSni = config.tls().domainRulesOnSni();
        this.clientHelloTimeoutMs = config.tls().clientHelloTimeoutMs();
    }

    /** Refuses a client outside {@code allowClients}. */
    public void checkClient(InetAddress client) throws RequestRefusedException {
        for (int i = 0; i < allowClients.size(); i++) {
            if (allowClients.get(i).contains(client)) {
                return;
            }
        }
        throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED,
                "client " + client.getHostAddress() + " is not in allowClients " + allowClients);
    }

    /**
     * Refuses a destination by its name alone, before anything is resolved: a {@code denyDestinations} domain
     * pattern. Networks wait for the address ({@link #checkDestination}).
     */
    public void checkDestinationName(String host) throws RequestRefusedException {
        for (DestinationRule rule : denyDestinations) {
            if (rule.matchesName(host)) {
                throw denied(host, null, rule);
            }
        }
    }

    /** Whether {@code connectPorts} lets a CONNECT reach {@code port}. */
    public boolean connectPortAllowed(int port) {
        for (int[] range : connectPorts) {
            if (port >= range[0] && port <= range[1]) {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses a name, before it is resolved, that {@code allowDestinations} cannot let through whatever it resolves
     * to: the list is not empty, has no network (which an address of the name might match) and none of its domain
     * patterns matches. Without this a name off the list that does not resolve was answered 502, not 403. An
     * address literal, and a name where the list has networks, wait for {@link #checkDestination}.
     */
    public void checkAllowedName(String host) throws RequestRefusedException {
        if (allowDestinations.isEmpty() || AddressLiterals.isLiteral(host)) {
            return;
        }
        for (DestinationRule rule : allowDestinations) {
            if (!rule.isDomain() || rule.matchesName(host)) {
                return;
            }
        }
        throw RequestRefusedException.byEgressRule("destination " + host + " matches no entry of allowDestinations");
    }

    /**
     * Checks a destination: its name against the domain patterns and {@code address} (the one that will be
     * dialled; null when a parent proxy resolves the name instead) against this host and the networks. This
     * host is refused first unless {@code allowLocalHost} is on, whatever the lists say. Deny wins; when
     * {@code allowDestinations} is not empty, the name or the address must match one of its entries. A network
     * matches an IPv6 address that embeds an IPv4 address of it too ({@link ThisHost#embeddedIpv4}): NAT64's
     * {@code 64:ff9b::a9fe:a9fe} is denied by {@code 169.254.0.0/16}.
     */
    public void checkDestination(String host, InetAddress address) throws RequestRefusedException {
        checkDestination(host, address, false);
    }

    /**
     * As {@link #checkDestination(String, InetAddress)}; with {@code sniDecides} (a tunnel to an address literal
     * whose SNI the domain patterns will be applied to: {@link #sniDecides}), an address that matches no entry of
     * {@code allowDestinations} is let through to {@link #checkClientHello}, which holds the tunnel's first bytes
     * until its SNI has matched a domain pattern of the list.
     */
    public void checkDestination(String host, InetAddress address, boolean sniDecides)
            throws RequestRefusedException {
        if (!allowLocalHost && ThisHost.contains(address)) {
            throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED, "destination " + describe(host, address)
                    + " is this host (loopback, unspecified or one of its own addresses); allowLocalHost is off");
        }
        InetAddress embedded = ThisHost.embeddedIpv4(address);
        for (DestinationRule rule : denyDestinations) {
            if (rule.matchesName(host) || rule.matchesAddress(address) || rule.matchesAddress(embedded)) {
                throw denied(host, address, rule);
            }
        }
        if (allowDestinations.isEmpty()) {
            return;
        }
        for (DestinationRule rule : allowDestinations) {
            if (rule.matchesName(host) || rule.matchesAddress(address)) {
                return;
            }
        }
        if (sniDecides && allowDestinations.stream().anyMatch(DestinationRule::isDomain)) {
            return;
        }
        throw RequestRefusedException.byEgressRule("destination " + describe(host, address)
                + " matches no entry of allowDestinations");
    }

    /**
     * Refuses a destination spelled as an address ({@link AddressLiterals#isLiteral}) when {@code denyIpLiterals}
     * is on: an egress policy written in names is not to be walked around by dialling the address they resolve to.
     */
    public void checkIpLiteral(String host) throws RequestRefusedException {
        if (denyIpLiterals && AddressLiterals.isLiteral(host)) {
            throw RequestRefusedException.byEgressRule("destination " + host + " is an IP address literal, not a"
                    + " name; denyIpLiterals is on");
        }
    }

    /**
     * Refuses a forwarded request whose method is not in {@code allowMethods} (when it is not empty). 403, as
     * Squid's {@code http_access deny} by method: 405 would say the origin's resource does not support the method
     * (RFC 9110 15.5.6), with an {@code Allow} the proxy cannot know.
     */
    public void checkMethod(String method) throws RequestRefusedException {
        if (!allowMethods.isEmpty() && !allowMethods.contains(method)) {
            throw RequestRefusedException.byEgressRule("method " + method + " is not in allowMethods "
                    + allowMethods);
        }
    }

    /**
     * Whether a tunnel to {@code host} has a rule on its ClientHello, so that its first bytes must be held until the
     * ClientHello is read: {@code tls.requireSniMatch}, or {@code tls.domainRulesOnSni} for an address literal
     * when the destination lists have domain patterns.
     */
    public boolean rulesOnClientHello(String host) {
        return requireSniMatch || sniDecides(host);
    }

    /**
     * Whether a tunnel to {@code host} must hold its client's first bytes until its ClientHello is judged: when a
     * rule on the ClientHello may refuse it. In report mode only {@code denyDestinations}' patterns on the SNI
     * still refuse; the rest is reported, and nothing needs holding for that.
     */
    public boolean holdsClientHello(String host, boolean reportsOnly) {
        if (!reportsOnly) {
            return rulesOnClientHello(host);
        }
        return sniDecides(host) && denyDestinations.stream().anyMatch(DestinationRule::isDomain);
    }

    /** Whether the domain patterns are applied to the SNI of a tunnel to {@code host} ({@code tls.domainRulesOnSni}). */
    public boolean sniDecides(String host) {
        return domainRulesOnSni && AddressLiterals.isLiteral(host)
                && (denyDestinations.stream().anyMatch(DestinationRule::isDomain)
                || allowDestinations.stream().anyMatch(DestinationRule::isDomain));
    }

    /**
     * The rules on a tunnel's ClientHello ({@code hello} null when none came within {@code tls.clientHelloTimeoutMs}):
     * {@code tls.requireSniMatch}, then the destination lists' domain patterns on the SNI of a tunnel to an address
     * literal. A tunnel with such rules that does not start with a readable ClientHello is refused: what they
     * check cannot be seen.
     */
    public void checkClientHello(String host, ClientHello hello) throws RequestRefusedException {
        if (!rulesOnClientHello(host)) {
            return;
        }
        String rule = requireSniMatch ? "tls.requireSniMatch" : "tls.domainRulesOnSni";
        if (hello == null) {
            throw RequestRefusedException.byEgressRule(rule + ": no TLS ClientHello within "
                    + clientHelloTimeoutMs + " ms (tls.clientHelloTimeoutMs)");
        }
        if (!hello.isTls()) {
            throw RequestRefusedException.byEgressRule(rule + ": the tunnel does not start with a"
                    + " readable TLS ClientHello (" + hello.problem() + ")");
        }
        String sni = hello.sni();
        if (requireSniMatch) {
            if (sni == null) {
                if (!allowMissingSni) {
                    throw RequestRefusedException.byEgressRule("tls.requireSniMatch: the"
                            + " ClientHello names no server (no SNI) and tls.allowMissingSni is off");
                }
            } else if (!HostAndPort.canonicalHost(sni).equals(HostAndPort.canonicalHost(host))) {
                throw RequestRefusedException.byEgressRule("tls.requireSniMatch: the SNI " + sni
                        + " is not the CONNECT host " + host);
            }
        }
        if (sniDecides(host)) {
            checkSniAgainstDomainRules(host, sni);
        }
    }

    private void checkSniAgainstDomainRules(String host, String sni) throws RequestRefusedException {
        InetAddress address = AddressLiterals.parse(host);
        String seen = host + " (SNI " + (sni == null ? "none" : sni) + ")";
        for (DestinationRule rule : denyDestinations) {
            if (rule.matchesName(sni)) {
                throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED, "tls.domainRulesOnSni: destination "
                        + seen + " is refused by " + rule);
            }
        }
        if (allowDestinations.isEmpty()) {
            return;
        }
        for (DestinationRule rule : allowDestinations) {
            if (rule.matchesName(sni) || rule.matchesAddress(address)) {
                return;
            }
        }
        throw RequestRefusedException.byEgressRule("tls.domainRulesOnSni: destination " + seen
                + " matches no entry of allowDestinations");
    }

    /** Refuses a CONNECT to a port outside {@code connectPorts} (Squid's SSL_ports). */
    public void checkConnectPort(int port) throws RequestRefusedException {
        if (connectPortAllowed(port)) {
            return;
        }
        throw RequestRefusedException.byEgressRule(
                "CONNECT to port " + port + " is refused: not in connectPorts " + connectPortsText);
    }

    private static RequestRefusedException denied(String host, InetAddress address, DestinationRule rule) {
        return new RequestRefusedException(FORBIDDEN, Outcome.DENIED, "destination " + describe(host, address)
                + " is refused by " + rule);
    }

    private static String describe(String host, InetAddress address) {
        if (address == null) {
            return host;
        }
        String ip = address.getHostAddress();
        return host == null || host.equalsIgnoreCase(ip) ? ip : host + " (" + ip + ")";
    }
}
