package dev.tollgate.daemon.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address literals in request targets, parsed without ever touching DNS. */
public final class AddressLiterals {

    private AddressLiterals() {
    }

    /** The address a host string spells out ({@code 10.0.0.1}, {@code ::1}, {@code [::1]}), or null for a name. */
    public static InetAddress parse(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean v4 = h.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = h.indexOf(':') >= 0 && h.matches("[0-9A-Fa-f:.%a-zA-Z0-9]+");
        if (!v4 && !v6) {
            return null;
        }
        try {
            return InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * Whether a host names an address rather than a DNS name, in any spelling a resolver would read as one:
     * IPv6 (it has a colon), or a last label that is all digits or starts with {@code 0x} ({@code 10.0.0.1},
     * {@code 127.1}, {@code 2130706433}, {@code 0x7f.1}), since no top-level domain is numeric (RFC 3696 2).
     */
    public static boolean isLiteral(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        if (host.indexOf(':') >= 0) {
            return true;
        }
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String last = h.substring(h.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
        return !last.isEmpty() && (last.chars().allMatch(Character::isDigit) || last.startsWith("0x"));
    }
}
