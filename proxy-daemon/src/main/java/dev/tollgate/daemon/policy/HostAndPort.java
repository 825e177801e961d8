package dev.tollgate.daemon.policy;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A CONNECT target in authority-form ({@code host:port}, {@code [v6]:port}, RFC 9110 9.3.6); invalid when the
 * port is missing or not 1 to 5 digits, or the host is not a name or an address (no userinfo: authority-form
 * has none, RFC 9112 3.2.3).
 */
public record HostAndPort(String host, int port, boolean valid) {

    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%-]+");

    /**
     * A host in one spelling, to compare or count by: without IPv6 brackets and a trailing dot, in lower case
     * ({@code [::1]}, {@code Example.COM.} and {@code example.com} each have one).
     */
    public static String canonicalHost(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        h = h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
        return h.toLowerCase(Locale.ROOT);
    }

    public static HostAndPort parse(String authority) {
        if (authority == null || authority.isBlank()) {
            return new HostAndPort(null, 0, false);
        }
        int colon = authority.lastIndexOf(':');
        int bracket = authority.lastIndexOf(']');
        if (colon < 0 || colon < bracket) {
            String host = authority.startsWith("[") && bracket > 0 ? authority.substring(1, bracket) : authority;
            return new HostAndPort(host, 0, false);
        }
        String host = authority.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String digits = authority.substring(colon + 1);
        if (!PORT.matcher(digits).matches()) {
            return new HostAndPort(host, 0, false);
        }
        int port = Integer.parseInt(digits);
        boolean valid = HOST.matcher(host).matches() && port > 0 && port <= 65_535;
        return new HostAndPort(host, valid ? port : 0, valid);
    }
}
