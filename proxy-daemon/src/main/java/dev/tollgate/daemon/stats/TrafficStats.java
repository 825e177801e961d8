package dev.tollgate.daemon.stats;

import dev.tollgate.admin.Counters;
import dev.tollgate.store.AccessRecord;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The live traffic counters behind {@code GET /api/v1/stats}: one consumer of the access-record stream, per
 * listener and in total, since the daemon started. Answered from memory, never from the database.
 */
public final class TrafficStats implements Consumer<AccessRecord> {

    private final Map<String, ListenerStats> byListener = new ConcurrentHashMap<>();
    private final ListenerStats totals = new ListenerStats();

    @Override
    public void accept(AccessRecord record) {
        byListener.computeIfAbsent(record.listener(), name -> new ListenerStats()).add(record);
        totals.add(record);
    }

    /** One listener's counters; zeros for a listener that has seen no traffic. */
    public Counters listener(String name, long activeConnections, long activeTunnels) {
        ListenerStats stats = byListener.get(name);
        return (stats == null ? new ListenerStats() : stats).snapshot(activeConnections, activeTunnels);
    }

    /** All listeners together. */
    public Counters totals(long activeConnections, long activeTunnels) {
        return totals.snapshot(activeConnections, activeTunnels);
    }
}
