package dev.tollgate.daemon.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address literals in request targets, parsed without ever touching DNS. */
final class AddressLiterals {

    private AddressLiterals() {
    }

    /** The address a host string spells out ({@code 10.0.0.1}, {@code ::1}, {@code [::1]}), or null for a name. */
    static InetAddress parse(String host) {
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
}
