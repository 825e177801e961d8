package dev.tollgate.daemon.policy;

import dev.tollgate.store.Outcome;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps requests from coming back to this daemon: a request that already carries this node's {@code Via}
 * token, or whose destination is one of this daemon's own listener or admin sockets, is answered
 * 508 Loop Detected once instead of bouncing until something breaks. It also keeps the admin API and the
 * listeners themselves from ever being reached through the proxy.
 */
public final class LoopGuard {

    public static final int LOOP_DETECTED = 508;

    private final String viaToken;
    private final Set<Integer> ownPorts = ConcurrentHashMap.newKeySet();

    public LoopGuard(String viaToken) {
        this.viaToken = viaToken.toLowerCase(Locale.ROOT);
    }

    /** The received-by name this node writes into {@code Via}. */
    public String viaToken() {
        return viaToken;
    }

    /** Called when a listener or the admin API binds a port. */
    public void addOwnPort(int port) {
        ownPorts.add(port);
    }

    /** Called when a listener stops. */
    public void removeOwnPort(int port) {
        ownPorts.remove(port);
    }

    /** Refuses a destination that is one of this daemon's own sockets. */
    public void checkDestination(InetSocketAddress destination) throws RequestRefusedException {
        InetAddress address = destination.getAddress();
        if (ownPorts.contains(destination.getPort()) && ThisHost.contains(address)) {
            throw new RequestRefusedException(LOOP_DETECTED, Outcome.LOOP, "destination "
                    + address.getHostAddress() + ":" + destination.getPort() + " is this proxy itself");
        }
    }

    /**
     * Refuses a request whose {@code Via} header (RFC 9110 7.6.3) already names this node: it has passed
     * through here before.
     */
    public void checkVia(Iterable<String> viaValues) throws RequestRefusedException {
        for (String value : viaValues) {
            for (String hop : value.split(",")) {
                String[] parts = hop.trim().split("\\s+");
                if (parts.length >= 2 && parts[1].toLowerCase(Locale.ROOT).equals(viaToken)) {
                    throw new RequestRefusedException(LOOP_DETECTED, Outcome.LOOP,
                            "request already passed through this proxy (Via: " + value.trim() + ")");
                }
            }
        }
    }
}
