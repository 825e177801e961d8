package dev.tollgate.daemon.config;

import java.util.List;

/**
 * A parent proxy that forwarded requests and CONNECT tunnels go through (Squid's {@code cache_peer ... parent}).
 *
 * @param host         the parent's host name or address
 * @param port         the parent's port
 * @param username     the user name for the parent's Basic proxy authentication, or null for none
 * @param passwordFile a file whose first line is that user's password (so that the password stays out of
 *                     tollgate.json and the admin API); required with {@code username}
 * @param noProxy      destinations reached directly, not through the parent: domain patterns
 *                     ({@code example.com}, {@code *.example.com}, {@code .example.com}) or CIDRs
 */
public record UpstreamProxyConfig(String host, Integer port, String username, String passwordFile,
                                  List<String> noProxy) {

    public UpstreamProxyConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: is required (the parent proxy's name or address)");
        }
        host = host.trim();
        if (port == null) {
            throw new IllegalArgumentException("port: is required (the parent proxy's port, 1 to 65535)");
        }
        Checks.intInRange("port", port, 0, 1, 65_535);
        if (username != null && username.isEmpty()) {
            throw new IllegalArgumentException("username: must not be empty (leave it out for a parent without"
                    + " authentication)");
        }
        if (username != null && username.indexOf(':') >= 0) {
            throw new IllegalArgumentException("username: \"" + username + "\" contains ':', which Basic"
                    + " authentication cannot carry (RFC 7617 2)");
        }
        if (username != null && (passwordFile == null || passwordFile.isBlank())) {
            throw new IllegalArgumentException("passwordFile: is required with username (a file whose first line"
                    + " is the password)");
        }
        if (username == null && passwordFile != null) {
            throw new IllegalArgumentException("passwordFile: \"" + passwordFile + "\" is set without username");
        }
        noProxy = DestinationRules.validate("noProxy", noProxy, List.of());
    }
}
