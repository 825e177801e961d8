package dev.tollgate.daemon.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 10.0.0.0/8}, {@code fc00::/7}); a bare address is a
 * network of one. Parsing never touches DNS: only address literals are accepted.
 */
public final class Cidr {

    private final String text;
    private final byte[] network;
    private final int prefixLength;

    private Cidr(String text, byte[] network, int prefixLength) {
        this.text = text;
        this.network = network;
        this.prefixLength = prefixLength;
    }

    /** Parses {@code address[/prefix]}; throws IllegalArgumentException naming the value when it is not one. */
    public static Cidr parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("\"" + value + "\" is not a network (write e.g. 10.0.0.0/8 or ::1/128)");
        }
        String trimmed = value.trim();
        int slash = trimmed.indexOf('/');
        String addressPart = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] address = literal(addressPart, value);
        int maxPrefix = address.length * 8;
        int prefix = maxPrefix;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(trimmed.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > maxPrefix) {
                throw new IllegalArgumentException("\"" + value + "\" has a prefix length out of range (0 to "
                        + maxPrefix + ")");
            }
        }
        return new Cidr(trimmed, mask(address, prefix), prefix);
    }

    /** Whether the address lies in this network (an IPv4 address never lies in an IPv6 network, and back). */
    public boolean contains(InetAddress address) {
        byte[] candidate = address.getAddress();
        if (candidate.length != network.length) {
            return false;
        }
        return java.util.Arrays.equals(mask(candidate, prefixLength), network);
    }

    @Override
    public String toString() {
        return text;
    }

    private static byte[] literal(String address, String original) {
        boolean looksLiteral = !address.isEmpty() && address.chars().allMatch(c ->
                Character.digit(c, 16) >= 0 || c == '.' || c == ':');
        if (!looksLiteral || (address.indexOf(':') < 0 && !address.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
            throw new IllegalArgumentException("\"" + original + "\" is not a network (write e.g. 10.0.0.0/8 or"
                    + " ::1/128)");
        }
        try {
            return InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + original + "\" is not a network (write e.g. 10.0.0.0/8 or"
                    + " ::1/128)");
        }
    }

    private static byte[] mask(byte[] address, int prefixLength) {
        byte[] masked = address.clone();
        for (int i = 0; i < masked.length; i++) {
            int bitsHere = Math.max(0, Math.min(8, prefixLength - i * 8));
            masked[i] &= (byte) (0xFF << (8 - bitsHere));
        }
        return masked;
    }
}
