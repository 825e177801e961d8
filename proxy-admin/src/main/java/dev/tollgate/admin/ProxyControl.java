package dev.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Optional;

/**
 * What the daemon offers the admin API. The admin module sees only this interface and the store's API, never
 * Jetty's proxy classes; the daemon implements it.
 */
public interface ProxyControl {

    /** Liveness and whether the access-log store is reachable now. */
    Health health();

    /** Every listener, config-declared and API-made, running or stopped, in creation order. */
    List<ListenerView> listeners();

    /** One listener by name. */
    Optional<ListenerView> listener(String name);

    /**
     * Creates and starts a listener from the same JSON object a listener has in tollgate.json, validated by
     * the same code with the same messages. It is kept in the store and comes back after a restart.
     *
     * @throws ControlException BAD_REQUEST for an invalid definition, CONFLICT for a taken name or port
     */
    ListenerView createListener(JsonNode definition) throws ControlException;

    /** Starts a stopped listener. @throws ControlException NOT_FOUND, or CONFLICT when it runs already */
    ListenerView startListener(String name) throws ControlException;

    /**
     * Stops accepting at once; open requests and tunnels may finish within {@code drainMs}, then are closed.
     *
     * @throws ControlException NOT_FOUND, or CONFLICT when it is stopped already
     */
    ListenerView stopListener(String name, long drainMs) throws ControlException;

    /** Stops (draining for {@code drainMs}) and removes a listener. @throws ControlException NOT_FOUND */
    void deleteListener(String name, long drainMs) throws ControlException;

    /**
     * Re-reads the config file the daemon was started with and applies it: the file is validated whole first,
     * and a bad one changes nothing. Config listeners are started, removed (with drain) or restarted (with
     * drain) as the file now says; API-made listeners are left alone.
     *
     * @throws ControlException BAD_REQUEST when the file is invalid (the message says why), CONFLICT when the
     *                          daemon runs on its embedded defaults (no file to read); a second reload waits for
     *                          the first
     */
    ReloadReport reload() throws ControlException;

    /**
     * Writes a consistent copy of the access-log database while it is in use, into the state directory's
     * {@code backups/} folder under a new name.
     *
     * @throws ControlException CONFLICT when the store is not the embedded H2 database (use that database's own
     *                          tools)
     */
    BackupReport backup() throws ControlException;

    /** Live counters: totals, per listener, and the access-log writer's. Never a table scan. */
    StatsView stats();

    /** The tunnels open right now. */
    List<TunnelView> tunnels();

    /** Every metric in Prometheus text exposition format 0.0.4. */
    String prometheusMetrics();

    /**
     * @param status  UP when everything works, DEGRADED when the proxy serves but the store or a sink does not
     *                deliver, DOWN
     * @param store   UP or DOWN
     * @param reason  why it is not UP, or null
     * @param journal the audit journal's records not yet stored
     * @param sinks   each push sink's state, in the configuration's order
     */
    record Health(String status, String store, String reason, Journal journal, List<Sink> sinks) {

        public Health {
            sinks = sinks == null ? List.of() : List.copyOf(sinks);
        }
    }

    /**
     * A push sink's state (docs/integrations.md).
     *
     * @param name       its name
     * @param type       syslog, otlp or file
     * @param target     where it delivers
     * @param status     UP, FAILING (deliveries fail and are retried; the journal keeps the records), BEHIND (it
     *                   gave records up under {@code onBehind: drop}) or STOPPED
     * @param reason     the last failure, one line, or null
     * @param delivered  records delivered since the start
     * @param retries    failed deliveries, each tried again
     * @param skipped    records given up ({@code onBehind: drop})
     * @param missing    numbers not found in the journal (their append failed), each raised as an alarm
     * @param position   the highest number delivered
     * @param lagRecords records appended and not yet delivered
     * @param lagSeconds age of the oldest record read and not yet delivered
     */
    record Sink(String name, String type, String target, String status, String reason, long delivered, long retries,
                long skipped, long missing, long position, long lagRecords, double lagSeconds) {
    }

    /**
     * @param records             records in the journal not yet stored in the database
     * @param bytes               bytes of the journal's files on disk (those not deleted yet)
     * @param oldestUnstoredAgeMs how long the oldest record not yet stored has waited, in ms (0 when none waits)
     */
    record Journal(long records, long bytes, long oldestUnstoredAgeMs) {
    }
}
