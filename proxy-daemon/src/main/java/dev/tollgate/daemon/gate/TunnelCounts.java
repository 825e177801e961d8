package dev.tollgate.daemon.gate;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open tunnels per key. A key whose count falls to 0 is removed, so the map holds no more keys than there are
 * open tunnels (themselves bounded by {@code maxConnections}).
 */
final class TunnelCounts {

    private final Map<String, Integer> counts = new ConcurrentHashMap<>();

    /** Counts one more tunnel for {@code key}; returns the count with it. */
    int increment(String key) {
        return counts.merge(key, 1, Integer::sum);
    }

    void decrement(String key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    int count(String key) {
        return counts.getOrDefault(key, 0);
    }
}
