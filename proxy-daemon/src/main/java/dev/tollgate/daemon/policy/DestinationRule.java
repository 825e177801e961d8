package dev.tollgate.daemon.policy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of a destination list ({@code allowDestinations}, {@code denyDestinations}, {@code noProxy}): a
 * network, checked on the address actually dialled, or a domain pattern, checked on the requested name. Its
 * {@link #toString()} names it as the access log's reason does: {@code denyDestinations[2]: 169.254.0.0/16}.
 */
public final class DestinationRule {

    private final String label;
    private final Cidr cidr;
    private final DomainPattern domain;

    private DestinationRule(String label, Cidr cidr, DomainPattern domain) {
        this.label = label;
        this.cidr = cidr;
        this.domain = domain;
    }

    /** Parses a validated list; each rule is labelled {@code key[index]: entry}. */
    public static List<DestinationRule> parseAll(String key, List<String> entries) {
        List<DestinationRule> rules = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i).trim();
            String label = key + "[" + i + "]: " + entry;
            if (DomainPattern.looksLikeDomain(entry)) {
                rules.add(new DestinationRule(label, null, DomainPattern.parse(entry)));
            } else {
                rules.add(new DestinationRule(label, Cidr.parse(entry), null));
            }
        }
        return List.copyOf(rules);
    }

    public boolean isDomain() {
        return domain != null;
    }

    /** Whether the requested name matches (domain patterns only). */
    public boolean matchesName(String host) {
        return domain != null && domain.matches(host);
    }

    /** Whether the address matches (networks only); null when not known here. */
    public boolean matchesAddress(InetAddress address) {
        return cidr != null && address != null && cidr.contains(address);
    }

    @Override
    public String toString() {
        return label;
    }
}
