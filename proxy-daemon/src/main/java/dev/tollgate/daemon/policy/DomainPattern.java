package dev.tollgate.daemon.policy;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A destination name rule: {@code example.com} matches that name only, {@code *.example.com} its subdomains
 * only, {@code .example.com} both (Squid's dstdomain). Names compare case-insensitively, without a trailing dot.
 */
public final class DomainPattern {

    private static final Pattern LABELS = Pattern.compile(
            "[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");

    private final String text;
    private final String domain;
    private final boolean exact;
    private final boolean subdomains;

    private DomainPattern(String text, String domain, boolean exact, boolean subdomains) {
        this.text = text;
        this.domain = domain;
        this.exact = exact;
        this.subdomains = subdomains;
    }

    /**
     * Whether a rule entry is meant as a domain pattern rather than a network: it has a letter outside hex
     * digits, or a wildcard or a leading dot. Address literals and CIDRs are not.
     */
    public static boolean looksLikeDomain(String value) {
        String v = value.trim();
        if (v.startsWith("*") || v.startsWith(".")) {
            return true;
        }
        if (v.indexOf(':') >= 0 || v.indexOf('/') >= 0) {
            return false;
        }
        return !v.matches("[0-9.]+");
    }

    /** Parses a pattern; throws IllegalArgumentException naming the value when it is not one. */
    public static DomainPattern parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        boolean exact = true;
        boolean subdomains = false;
        if (v.startsWith("*.")) {
            v = v.substring(2);
            exact = false;
            subdomains = true;
        } else if (v.startsWith(".")) {
            v = v.substring(1);
            subdomains = true;
        }
        if (v.endsWith(".")) {
            v = v.substring(0, v.length() - 1);
        }
        if (v.isEmpty() || v.length() > 253 || !LABELS.matcher(v).matches()) {
            throw new IllegalArgumentException("\"" + value + "\" is not a domain pattern (write example.com for"
                    + " the name only, *.example.com for its subdomains, .example.com for both)");
        }
        return new DomainPattern(value.trim(), v, exact, subdomains);
    }

    /** Whether a destination name matches; an address literal never does. */
    public boolean matches(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (exact && h.equals(domain)) {
            return true;
        }
        return subdomains && h.length() > domain.length() + 1 && h.endsWith("." + domain);
    }

    @Override
    public String toString() {
        return text;
    }
}
