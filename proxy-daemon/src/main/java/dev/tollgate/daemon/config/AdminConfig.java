package dev.tollgate.daemon.config;

import java.util.List;

/**
 * Where the admin API listens.
 *
 * @param host         bind address
 * @param port         bind port; 0 means any free port
 * @param allowedHosts Host header names accepted besides the bind address, localhost, 127.0.0.1 and [::1]
 *                     (requests naming any other host are refused, against DNS rebinding)
 */
public record AdminConfig(String host, Integer port, List<String> allowedHosts) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 9090;

    public AdminConfig {
        host = Checks.host("host", host, DEFAULT_HOST);
        port = Checks.port("port", port, DEFAULT_PORT);
        allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
        for (int i = 0; i < allowedHosts.size(); i++) {
            Checks.host("allowedHosts[" + i + "]", allowedHosts.get(i), null);
        }
    }

    public static AdminConfig defaults() {
        return new AdminConfig(null, null, null);
    }
}
