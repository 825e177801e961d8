package dev.tollgate.daemon.proxy;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.store.Outcome;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;

/**
 * One listener's rules: which clients may use it, which destination networks are refused (checked on the
 * address actually dialled) and which ports CONNECT may reach. Each check throws a
 * {@link RequestRefusedException} whose reason names the rule.
 */
public final class AccessPolicy {

    private static final int FORBIDDEN = 403;

    private final List<Cidr> allowClients;
    private final List<Cidr> denyDestinations;
    private final Set<Integer> connectPorts;

    public AccessPolicy(ListenerConfig config) {
        this.allowClients = config.allowClients().stream().map(Cidr::parse).toList();
        this.denyDestinations = config.denyDestinations().stream().map(Cidr::parse).toList();
        this.connectPorts = Set.copyOf(config.connectPorts());
    }

    /** Refuses a client outside {@code allowClients}. */
    public void checkClient(InetAddress client) throws RequestRefusedException {
        for (Cidr cidr : allowClients) {
            if (cidr.contains(client)) {
                return;
            }
        }
        throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED,
                "client " + client.getHostAddress() + " is not in allowClients");
    }

    /** Refuses a destination address inside one of {@code denyDestinations}. */
    public void checkDestination(InetAddress destination) throws RequestRefusedException {
        for (int i = 0; i < denyDestinations.size(); i++) {
            Cidr cidr = denyDestinations.get(i);
            if (cidr.contains(destination)) {
                throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED, "destination "
                        + destination.getHostAddress() + " is refused by denyDestinations[" + i + "]: " + cidr);
            }
        }
    }

    /** Refuses a CONNECT to a port outside {@code connectPorts} (Squid's SSL_ports). */
    public void checkConnectPort(int port) throws RequestRefusedException {
        if (!connectPorts.contains(port)) {
            throw new RequestRefusedException(FORBIDDEN, Outcome.DENIED,
                    "CONNECT to port " + port + " is refused: not in connectPorts " + connectPorts);
        }
    }
}
