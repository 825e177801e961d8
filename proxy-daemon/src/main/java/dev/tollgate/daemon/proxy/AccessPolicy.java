package dev.tollgate.daemon.proxy;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.config.PortRanges;
import dev.tollgate.daemon.policy.Cidr;
import dev.tollgate.daemon.policy.ThisHost;
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

    public AccessPolicy(ListenerConfig config) {
        this.allowClients = config.allowClients().stream().map(Cidr::parse).toList();
        this.allowDestinations = DestinationRule.parseAll("allowDestinations", config.allowDestinations());
        this.denyDestinations = DestinationRule.parseAll("denyDestinations", config.denyDestinations());
        this.allowLocalHost = config.allowLocalHost();
        for (Object entry : config.connectPorts()) {
            connectPorts.add(PortRanges.bounds(entry));
        }
        this.connectPortsText = config.connectPorts().toString();
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

    /**
     * Checks a destination: its name against the domain patterns and {@code address} (the one that will be
     * dialled; null when a parent proxy resolves the name instead) against this host and the networks. This
     * host is refused first unless {@code allowLocalHost} is on, whatever the lists say. Deny wins; when
     * {@code allowDestinations} is not empty, the name or the address must match one of its entries. A network
     * matches an IPv6 address that embeds an IPv4 address of it too ({@link ThisHost#embeddedIpv4}): NAT64's
     * {@code 64:ff9b::a9fe:a9fe} is denied by {@code 169.254.0.0/16}.
     */
    public void checkDestination(String host, InetAddress address) throws RequestRefusedException {
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
        throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED, "destination " + describe(host, address)
                + " matches no entry of allowDestinations");
    }

    /** Refuses a CONNECT to a port outside {@code connectPorts} (Squid's SSL_ports). */
    public void checkConnectPort(int port) throws RequestRefusedException {
        for (int[] range : connectPorts) {
            if (port >= range[0] && port <= range[1]) {
                return;
            }
        }
        throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED,
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
