package dev.tollgate.daemon.config;

/**
 * Where the admin API listens.
 *
 * @param host bind address
 * @param port bind port; 0 means any free port
 */
public record AdminConfig(String host, Integer port) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 9090;

    public AdminConfig {
        host = Checks.host("host", host, DEFAULT_HOST);
        port = Checks.port("port", port, DEFAULT_PORT);
    }

    public static AdminConfig defaults() {
        return new AdminConfig(null, null);
    }
}
