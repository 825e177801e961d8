package dev.tollgate.daemon.config;

import dev.tollgate.daemon.proxy.Cidr;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One proxy listener: a named bind address with its own policy. A running listener is changed by stopping it
 * and starting it with a new record, never by a setter.
 *
 * @param name             unique name, written into every access-log row
 * @param host             bind address
 * @param port             bind port; 0 means any free port
 * @param connectPorts     destination ports CONNECT may reach
 * @param allowClients     client networks allowed to use this listener
 * @param denyDestinations destination networks refused, checked on the address actually dialled
 * @param connectTimeoutMs how long dialling a destination may take before 504
 * @param idleTimeoutMs    how long a client connection, an upstream exchange or a tunnel may sit idle
 * @param logQuery         whether the access log keeps query strings (off: paths only, like Squid's
 *                         strip_query_terms)
 */
public record ListenerConfig(
        String name,
        String host,
        Integer port,
        List<Integer> connectPorts,
        List<String> allowClients,
        List<String> denyDestinations,
        Long connectTimeoutMs,
        Long idleTimeoutMs,
        Boolean logQuery) {

    public static final String DEFAULT_NAME = "default";
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 3128;
    public static final List<Integer> DEFAULT_CONNECT_PORTS = List.of(443);
    /** Loopback and private ranges, as Squid's {@code localnet}. */
    public static final List<String> DEFAULT_ALLOW_CLIENTS = List.of(
            "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7");
    /** Loopback, "this network" and link-local (cloud metadata at 169.254.169.254 among them). */
    public static final List<String> DEFAULT_DENY_DESTINATIONS = List.of(
            "127.0.0.0/8", "::1/128", "0.0.0.0/8", "169.254.0.0/16", "fe80::/10");
    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;
    public static final long MAX_TIMEOUT_MS = 86_400_000;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public ListenerConfig {
        name = name == null ? DEFAULT_NAME : name;
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: \"" + name + "\" is not a valid listener name (1 to 64 of"
                    + " letters, digits, '.', '_' and '-', starting with a letter or digit)");
        }
        host = Checks.host("host", host, DEFAULT_HOST);
        port = Checks.port("port", port, DEFAULT_PORT);
        if (connectPorts != null) {
            for (int i = 0; i < connectPorts.size(); i++) {
                if (connectPorts.get(i) == null) {
                    throw new IllegalArgumentException("connectPorts[" + i + "]: null is not a port (1 to 65535)");
                }
                Checks.intInRange("connectPorts[" + i + "]", connectPorts.get(i), 0, 1, 65_535);
            }
        }
        connectPorts = connectPorts == null ? DEFAULT_CONNECT_PORTS : List.copyOf(connectPorts);
        allowClients = cidrs("allowClients", allowClients, DEFAULT_ALLOW_CLIENTS);
        denyDestinations = cidrs("denyDestinations", denyDestinations, DEFAULT_DENY_DESTINATIONS);
        connectTimeoutMs = Checks.longInRange("connectTimeoutMs", connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1,
                MAX_TIMEOUT_MS);
        idleTimeoutMs = Checks.longInRange("idleTimeoutMs", idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 1,
                MAX_TIMEOUT_MS);
        logQuery = logQuery != null && logQuery;
    }

    /** The listener the daemon runs when the config declares none. */
    public static ListenerConfig defaults() {
        return new ListenerConfig(null, null, null, null, null, null, null, null, null);
    }

    private static List<String> cidrs(String key, List<String> values, List<String> defaults) {
        if (values == null) {
            return defaults;
        }
        for (int i = 0; i < values.size(); i++) {
            String value = values.get(i);
            try {
                Cidr.parse(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + "[" + i + "]: " + e.getMessage());
            }
        }
        return List.copyOf(values);
    }
}
