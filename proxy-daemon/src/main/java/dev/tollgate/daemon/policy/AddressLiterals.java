package dev.tollgate.daemon.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address literals in request targets, parsed without ever touching DNS. */
public final class AddressLiterals {

    private AddressLiterals() {
    }

    /**
     * The address a host string spells out ({@code 10.0.0.1}, {@code ::1}, {@code [::1]}), or null for a name or a
     * malformed literal. Never asks DNS: a dotted quad is turned into its four bytes here, and a string is handed to
     * {@link InetAddress#getByName} only when it holds a colon and starts with a hex digit or a colon, which that
     * method reads as an IPv6 literal or refuses, without a lookup. (A regular expression before the call let
     * {@code 999.1.1.1} and {@code zz:1} through, both of which InetAddress then looked up as names; it was also
     * compiled again on every request.)
     */
    public static InetAddress parse(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (isDottedQuad(h)) {
            return v4(h);
        }
        if (h.isEmpty() || h.indexOf(':') < 0 || !(h.charAt(0) == ':' || Character.digit(h.charAt(0), 16) >= 0)) {
            return null;
        }
        try {
            return InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * Whether {@code host} is an IPv4 address in its usual spelling: four decimal numbers from 0 to 255 of one to
     * three digits, dot-separated, nothing else. Read without allocating: it runs on every request.
     */
    public static boolean isDottedQuad(String host) {
        int dots = 0;
        int digits = 0;
        int value = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                if (digits == 0 || ++dots > 3) {
                    return false;
                }
                digits = 0;
                value = 0;
            } else if (c >= '0' && c <= '9') {
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return dots == 3 && digits > 0;
    }

    private static InetAddress v4(String dottedQuad) {
        byte[] bytes = new byte[4];
        int part = 0;
        int value = 0;
        for (int i = 0; i < dottedQuad.length(); i++) {
            char c = dottedQuad.charAt(i);
            if (c == '.') {
                bytes[part++] = (byte) value;
                value = 0;
            } else {
                value = value * 10 + (c - '0');
            }
        }
        bytes[part] = (byte) value;
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an address", e);
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
