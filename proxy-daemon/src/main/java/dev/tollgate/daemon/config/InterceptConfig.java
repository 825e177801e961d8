package dev.tollgate.daemon.config;

import dev.tollgate.daemon.policy.DomainPattern;

import java.util.List;

/**
 * TLS interception on one listener (docs/interception.md): off unless {@code enabled}.
 *
 * @param enabled     whether CONNECT tunnels of this listener are decrypted (with certificates signed by this
 *                    installation's CA) so that each request inside is forwarded and recorded
 * @param bypass      destinations that are tunnelled as before, never decrypted: domain patterns
 *                    ({@code example.com}, {@code *.example.com}, {@code .example.com}) or address literals
 * @param trustBundle a PEM file of CA certificates trusted for upstream servers besides the JVM's trust store,
 *                    or null for the JVM's alone
 */
public record InterceptConfig(Boolean enabled, List<String> bypass, String trustBundle) {

    public InterceptConfig {
        enabled = enabled != null && enabled;
        if (bypass == null) {
            bypass = List.of();
        }
        for (int i = 0; i < bypass.size(); i++) {
            String value = bypass.get(i);
            if (value == null) {
                throw new IllegalArgumentException("bypass[" + i + "]: null is not a domain pattern (write e.g."
                        + " example.com, *.example.com or .example.com)");
            }
            if (DomainPattern.looksLikeDomain(value)) {
                try {
                    DomainPattern.parse(value);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("bypass[" + i + "]: " + e.getMessage());
                }
            }
        }
        bypass = List.copyOf(bypass);
        if (trustBundle != null && trustBundle.isBlank()) {
            throw new IllegalArgumentException("trustBundle: must not be empty (leave it out to trust the JVM's"
                    + " trust store alone)");
        }
    }

    /** Interception off: every CONNECT is tunnelled. */
    public static InterceptConfig off() {
        return new InterceptConfig(false, List.of(), null);
    }
}
