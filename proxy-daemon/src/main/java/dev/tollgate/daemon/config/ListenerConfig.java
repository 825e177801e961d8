package dev.tollgate.daemon.config;

import dev.tollgate.daemon.policy.Cidr;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One proxy listener: a named bind address with its own policy. A running listener is changed by stopping it
 * and starting it with a new record, never by a setter. docs/policy.md describes each rule.
 *
 * @param name                      unique name, written into every access-log row
 * @param host                      bind address
 * @param port                      bind port; 0 means any free port
 * @param connectPorts              destination ports CONNECT may reach: whole numbers ({@code 443}) or ranges
 *                                  ({@code "8443-8445"})
 * @param allowClients              client networks allowed to use this listener
 * @param allowDestinations         when not empty, the only destinations allowed: CIDRs (checked on the address
 *                                  actually dialled) and domain patterns
 * @param denyDestinations          destinations refused (deny wins over allow): CIDRs, checked on the address
 *                                  actually dialled, and domain patterns
 * @param allowLocalHost            whether destinations on this host may be reached: its loopback, unspecified
 *                                  and interface addresses in every spelling. Off by default, whatever
 *                                  {@code denyDestinations} says; a lab turns it on. This proxy's own sockets
 *                                  stay unreachable either way (508)
 * @param auth                      proxy authentication
 * @param forwardedFor              {@code off}, {@code on} or {@code delete}: what happens to X-Forwarded-For
 *                                  and Forwarded
 * @param upstreamProxy             a parent proxy for forwarded requests and tunnels, or null to go direct
 * @param maxConnections            client connections open at once; further ones wait in the kernel's accept
 *                                  queue until one closes
 * @param connectTimeoutMs          how long dialling a destination may take before 504
 * @param idleTimeoutMs             how long a client connection, an upstream exchange or a tunnel may sit idle
 * @param requestHeaderTimeoutMs    how long the whole request head may take to arrive, from its first byte
 * @param requestBodyStallTimeoutMs how long a request body may stop arriving before the request ends with 408
 * @param logQuery                  whether the access log keeps query strings (off: paths only, like Squid's
 *                                  strip_query_terms)
 * @param intercept                 TLS interception of CONNECT tunnels (off by default; docs/interception.md)
 * @param tls                       what is read of, and required of, each tunnel's ClientHello
 * @param denyIpLiterals            whether requests and CONNECTs naming an IP address literal rather than a name
 *                                  are refused (403)
 * @param allowMethods              when not empty, the only methods forwarded (CONNECT is not one: tunnels have
 *                                  {@code connectPorts}); others are refused with 403
 * @param mode                      {@code enforce} (the default) or {@code report}: in report mode the egress
 *                                  rules ({@code allowDestinations}, {@code connectPorts}, {@code denyIpLiterals},
 *                                  {@code allowMethods}, {@code tls}) let through what they would refuse, and the
 *                                  row says {@code WOULD_DENY: <rule>}; the others still refuse
 * @param limits                    request rates, open tunnels, tunnel lifetime and bandwidth per client, user and
 *                                  destination host (all off by default)
 */
public record ListenerConfig(
        String name,
        String host,
        Integer port,
        List<Object> connectPorts,
        List<String> allowClients,
        List<String> allowDestinations,
        List<String> denyDestinations,
        Boolean allowLocalHost,
        AuthConfig auth,
        String forwardedFor,
        UpstreamProxyConfig upstreamProxy,
        Integer maxConnections,
        Long connectTimeoutMs,
        Long idleTimeoutMs,
        Long requestHeaderTimeoutMs,
        Long requestBodyStallTimeoutMs,
        Boolean logQuery,
        InterceptConfig intercept,
        TlsRulesConfig tls,
        Boolean denyIpLiterals,
        List<String> allowMethods,
        String mode,
        LimitsConfig limits) {

    public static final String DEFAULT_NAME = "default";
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 3128;
    public static final List<Object> DEFAULT_CONNECT_PORTS = List.of(443);
    /** Loopback and private ranges, as Squid's {@code localnet}. */
    public static final List<String> DEFAULT_ALLOW_CLIENTS = List.of(
            "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7");
    /** Empty: every destination not denied is allowed. */
    public static final List<String> DEFAULT_ALLOW_DESTINATIONS = List.of();
    /** Loopback, "this network" and link-local (cloud metadata at 169.254.169.254 among them). */
    public static final List<String> DEFAULT_DENY_DESTINATIONS = List.of(
            "127.0.0.0/8", "::1/128", "0.0.0.0/8", "169.254.0.0/16", "fe80::/10");
    public static final String FORWARDED_FOR_OFF = "off";
    public static final String FORWARDED_FOR_ON = "on";
    public static final String FORWARDED_FOR_DELETE = "delete";
    public static final String MODE_ENFORCE = "enforce";
    public static final String MODE_REPORT = "report";
    public static final int DEFAULT_MAX_CONNECTIONS = 4096;
    public static final int MAX_MAX_CONNECTIONS = 1_000_000;
    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;
    public static final long DEFAULT_REQUEST_HEADER_TIMEOUT_MS = 30_000;
    public static final long DEFAULT_REQUEST_BODY_STALL_TIMEOUT_MS = 30_000;
    public static final long MAX_TIMEOUT_MS = 86_400_000;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** A method is a token (RFC 9110 9.1, 5.6.2). */
    private static final Pattern METHOD = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}");

    public ListenerConfig {
        name = name == null ? DEFAULT_NAME : name;
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: \"" + name + "\" is not a valid listener name (1 to 64 of"
                    + " letters, digits, '.', '_' and '-', starting with a letter or digit)");
        }
        host = Checks.host("host", host, DEFAULT_HOST);
        port = Checks.port("port", port, DEFAULT_PORT);
        connectPorts = connectPorts == null ? DEFAULT_CONNECT_PORTS : PortRanges.validate("connectPorts",
                connectPorts);
        allowClients = cidrs("allowClients", allowClients, DEFAULT_ALLOW_CLIENTS);
        allowDestinations = DestinationRules.validate("allowDestinations", allowDestinations,
                DEFAULT_ALLOW_DESTINATIONS);
        denyDestinations = DestinationRules.validate("denyDestinations", denyDestinations,
                DEFAULT_DENY_DESTINATIONS);
        allowLocalHost = allowLocalHost != null && allowLocalHost;
        auth = auth == null ? AuthConfig.none() : auth;
        forwardedFor = forwardedFor == null ? FORWARDED_FOR_OFF : forwardedFor;
        if (!List.of(FORWARDED_FOR_OFF, FORWARDED_FOR_ON, FORWARDED_FOR_DELETE).contains(forwardedFor)) {
            throw new IllegalArgumentException("forwardedFor: \"" + forwardedFor + "\" is not one of \"off\","
                    + " \"on\", \"delete\"");
        }
        maxConnections = Checks.intInRange("maxConnections", maxConnections, DEFAULT_MAX_CONNECTIONS, 1,
                MAX_MAX_CONNECTIONS);
        connectTimeoutMs = Checks.longInRange("connectTimeoutMs", connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1,
                MAX_TIMEOUT_MS);
        idleTimeoutMs = Checks.longInRange("idleTimeoutMs", idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 1,
                MAX_TIMEOUT_MS);
        requestHeaderTimeoutMs = Checks.longInRange("requestHeaderTimeoutMs", requestHeaderTimeoutMs,
                DEFAULT_REQUEST_HEADER_TIMEOUT_MS, 1, MAX_TIMEOUT_MS);
        requestBodyStallTimeoutMs = Checks.longInRange("requestBodyStallTimeoutMs", requestBodyStallTimeoutMs,
                DEFAULT_REQUEST_BODY_STALL_TIMEOUT_MS, 1, MAX_TIMEOUT_MS);
        logQuery = logQuery != null && logQuery;
        intercept = intercept == null ? InterceptConfig.off() : intercept;
        tls = tls == null ? TlsRulesConfig.defaults() : tls;
        denyIpLiterals = denyIpLiterals != null && denyIpLiterals;
        allowMethods = methods(allowMethods);
        mode = mode == null ? MODE_ENFORCE : mode;
        if (!List.of(MODE_ENFORCE, MODE_REPORT).contains(mode)) {
            throw new IllegalArgumentException("mode: \"" + mode + "\" is not one of \"enforce\", \"report\"");
        }
        limits = limits == null ? LimitsConfig.none() : limits;
    }

    /** As the canonical constructor, without {@code limits} (issue #22 item 4; then off). */
    public ListenerConfig(String name, String host, Integer port, List<Object> connectPorts, List<String> allowClients,
                          List<String> allowDestinations, List<String> denyDestinations, Boolean allowLocalHost,
                          AuthConfig auth, String forwardedFor, UpstreamProxyConfig upstreamProxy,
                          Integer maxConnections, Long connectTimeoutMs, Long idleTimeoutMs,
                          Long requestHeaderTimeoutMs, Long requestBodyStallTimeoutMs, Boolean logQuery,
                          InterceptConfig intercept, TlsRulesConfig tls, Boolean denyIpLiterals,
                          List<String> allowMethods, String mode) {
        this(name, host, port, connectPorts, allowClients, allowDestinations, denyDestinations, allowLocalHost, auth,
                forwardedFor, upstreamProxy, maxConnections, connectTimeoutMs, idleTimeoutMs, requestHeaderTimeoutMs,
                requestBodyStallTimeoutMs, logQuery, intercept, tls, denyIpLiterals, allowMethods, mode, null);
    }

    /** Whether the egress rules only report what they would refuse ({@code mode: "report"}). */
    public boolean reportsOnly() {
        return MODE_REPORT.equals(mode);
    }

    /** As the canonical constructor, without the egress keys of issue #22 (each then at its default). */
    public ListenerConfig(String name, String host, Integer port, List<Object> connectPorts, List<String> allowClients,
                          List<String> allowDestinations, List<String> denyDestinations, Boolean allowLocalHost,
                          AuthConfig auth, String forwardedFor, UpstreamProxyConfig upstreamProxy,
                          Integer maxConnections, Long connectTimeoutMs, Long idleTimeoutMs,
                          Long requestHeaderTimeoutMs, Long requestBodyStallTimeoutMs, Boolean logQuery,
                          InterceptConfig intercept) {
        this(name, host, port, connectPorts, allowClients, allowDestinations, denyDestinations, allowLocalHost, auth,
                forwardedFor, upstreamProxy, maxConnections, connectTimeoutMs, idleTimeoutMs, requestHeaderTimeoutMs,
                requestBodyStallTimeoutMs, logQuery, intercept, null, null, null, null, null);
    }

    /** The listener the daemon runs when the config declares none. */
    public static ListenerConfig defaults() {
        return named(null);
    }

    /** A listener with this name and every other default. */
    public static ListenerConfig named(String name) {
        return new ListenerConfig(name, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null);
    }

    private static List<String> methods(List<String> values) {
        if (values == null) {
            return List.of();
        }
        for (int i = 0; i < values.size(); i++) {
            String value = values.get(i);
            if (value == null || !METHOD.matcher(value).matches()) {
                throw new IllegalArgumentException("allowMethods[" + i + "]: " + (value == null ? "null"
                        : "\"" + value + "\"") + " is not a method (a token of 1 to 32 characters, e.g. GET)");
            }
            if ("CONNECT".equals(value)) {
                throw new IllegalArgumentException("allowMethods[" + i + "]: CONNECT is not a forwarded method;"
                        + " tunnels are governed by connectPorts");
            }
        }
        return List.copyOf(values);
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
