package dev.tollgate.admin;

import java.util.Map;

/**
 * {@code GET /api/v1/stats}.
 *
 * @param node      this daemon's node name
 * @param startedAt when the daemon started (ISO-8601 UTC)
 * @param uptimeMs  milliseconds since then
 * @param totals    all listeners together
 * @param listeners per listener name
 * @param accessLog the access-log writer's state
 */
public record StatsView(
        String node,
        String startedAt,
        long uptimeMs,
        Counters totals,
        Map<String, Counters> listeners,
        AccessLogStats accessLog) {

    /**
     * @param queueDepth records waiting to be written
     * @param written    records stored
     * @param failed     records the database refused
     * @param dropped    records not stored because the queue was full (refusals' records, and unlogged ones)
     * @param unlogged   requests forwarded without their record (overflow policy {@code forward})
     */
    public record AccessLogStats(int queueDepth, long written, long failed, long dropped, long unlogged) {
    }
}
