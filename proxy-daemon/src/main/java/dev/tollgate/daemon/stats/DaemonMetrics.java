package dev.tollgate.daemon.stats;

import dev.tollgate.store.AccessJournal;
import dev.tollgate.store.AccessLogWriter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * The daemon's Prometheus registry: the JVM's own metrics, the access-log writer's gauges and counters, open
 * tunnels per listener, and {@link AccessMetrics} fed by the access-record stream.
 */
public final class DaemonMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final AccessMetrics accessMetrics = new AccessMetrics(registry);

    public DaemonMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** The consumer of access records that counts requests, bytes and durations. */
    public AccessMetrics accessMetrics() {
        return accessMetrics;
    }

    /** Exposes the writer's queue depth and its written, failed and dropped counts. */
    public void bindWriter(AccessLogWriter writer) {
        Gauge.builder("tollgate.access_log.queue_depth", writer, AccessLogWriter::queueDepth)
                .description("Access records waiting to be written").register(registry);
        FunctionCounter.builder("tollgate.access_log.written", writer, AccessLogWriter::written)
                .description("Access records stored").register(registry);
        FunctionCounter.builder("tollgate.access_log.failed", writer, AccessLogWriter::failed)
                .description("Access records the database refused").register(registry);
        AccessJournal journal = writer.journal();
        Gauge.builder("tollgate.journal.depth.records", journal, AccessJournal::depthRecords)
                .description("Access records in the audit journal not yet stored in the database").register(registry);
        Gauge.builder("tollgate.journal.depth.bytes", journal, AccessJournal::depthBytes)
                .description("Bytes of the audit journal's files on disk").register(registry);
        FunctionCounter.builder("tollgate.journal.fsyncs", journal, AccessJournal::forces)
                .description("fdatasyncs of the audit journal with store.fsync, each covering a group of records")
                .register(registry);
        Gauge.builder("tollgate.journal.oldest.unstored.age.seconds", writer, w -> w.oldestUnstoredAgeMs() / 1000.0)
                .description("How long the oldest access record not yet stored has waited").register(registry);
    }

    /**
     * Exposes what the overflow policy did without a row: refusals' records turned away (policy {@code refuse}) and
     * requests forwarded without their record (policy {@code forward}), two disjoint counts.
     */
    public <T> void bindOverflow(T source, ToLongFunction<T> dropped, ToLongFunction<T> unlogged) {
        FunctionCounter.builder("tollgate.access_log.dropped", source, s -> dropped.applyAsLong(s))
                .description("Records of 503 refusals not stored because the queue and journal were full")
                .register(registry);
        FunctionCounter.builder("tollgate.access_log.unlogged", source, s -> unlogged.applyAsLong(s))
                .description("Requests forwarded without their access record because the queue and journal were"
                        + " full").register(registry);
    }

    /** Exposes a listener's open tunnels as {@code tollgate_tunnels_active{listener}}. */
    public <T> void bindTunnels(String listener, T source, ToIntFunction<T> openTunnels) {
        Gauge.builder("tollgate.tunnels.active", source, s -> openTunnels.applyAsInt(s))
                .description("CONNECT tunnels open now").tag("listener", listener).register(registry);
    }

    /**
     * Exposes a push sink's counts and lag, tagged {@code sink} with its name: {@code tollgate_sink_delivered_total},
     * {@code _retries_total}, {@code _skipped_total}, {@code _missing_total}, {@code tollgate_sink_lag_records},
     * {@code tollgate_sink_lag_seconds} and {@code tollgate_sink_up} (1 while its deliveries succeed).
     */
    public <T> void bindSink(String sink, T source, SinkGauges<T> gauges) {
        FunctionCounter.builder("tollgate.sink.delivered", source, s -> gauges.delivered().applyAsLong(s))
                .description("Records the sink's receiver has taken").tag("sink", sink).register(registry);
        FunctionCounter.builder("tollgate.sink.retries", source, s -> gauges.retries().applyAsLong(s))
                .description("Failed deliveries of the sink, each tried again").tag("sink", sink).register(registry);
        FunctionCounter.builder("tollgate.sink.skipped", source, s -> gauges.skipped().applyAsLong(s))
                .description("Records the sink gave up (onBehind: drop)").tag("sink", sink).register(registry);
        FunctionCounter.builder("tollgate.sink.missing", source, s -> gauges.missing().applyAsLong(s))
                .description("Record numbers the sink did not find in the journal").tag("sink", sink)
                .register(registry);
        Gauge.builder("tollgate.sink.lag.records", source, s -> gauges.lagRecords().applyAsLong(s))
                .description("Records appended and not yet delivered by the sink").tag("sink", sink)
                .register(registry);
        Gauge.builder("tollgate.sink.lag.seconds", source, s -> gauges.lagSeconds().applyAsDouble(s))
                .description("Age of the oldest record the sink has read and not delivered").tag("sink", sink)
                .register(registry);
        Gauge.builder("tollgate.sink.up", source, s -> gauges.up().test(s) ? 1 : 0)
                .description("1 while the sink's deliveries succeed").tag("sink", sink).register(registry);
    }

    /** What {@link #bindSink} reads from a sink. */
    public record SinkGauges<T>(ToLongFunction<T> delivered, ToLongFunction<T> retries, ToLongFunction<T> skipped,
                                ToLongFunction<T> missing, ToLongFunction<T> lagRecords,
                                ToDoubleFunction<T> lagSeconds, Predicate<T> up) {
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
