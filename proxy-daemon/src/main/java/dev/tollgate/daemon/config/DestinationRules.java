package dev.tollgate.daemon.config;

import dev.tollgate.daemon.policy.Cidr;
import dev.tollgate.daemon.policy.DomainPattern;

import java.util.List;

/** Validation of destination lists: each entry a CIDR or a domain pattern, errors naming key[index]. */
final class DestinationRules {

    private DestinationRules() {
    }

    static List<String> validate(String key, List<String> values, List<String> defaults) {
        if (values == null) {
            return defaults;
        }
        for (int i = 0; i < values.size(); i++) {
            String value = values.get(i);
            if (value == null) {
                throw new IllegalArgumentException(key + "[" + i + "]: null is not a network or domain (write e.g."
                        + " 10.0.0.0/8, example.com, *.example.com or .example.com)");
            }
            if (DomainPattern.looksLikeDomain(value)) {
                try {
                    DomainPattern.parse(value);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(key + "[" + i + "]: " + e.getMessage());
                }
                continue;
            }
            try {
                Cidr.parse(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + "[" + i + "]: \"" + value + "\" is neither a network"
                        + " (10.0.0.0/8, ::1/128) nor a domain pattern (example.com, *.example.com, .example.com)");
            }
        }
        return List.copyOf(values);
    }
}
