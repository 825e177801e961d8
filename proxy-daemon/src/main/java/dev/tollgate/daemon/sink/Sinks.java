package dev.tollgate.daemon.sink;

import dev.tollgate.admin.ProxyControl;
import dev.tollgate.daemon.config.SinkConfig;
import dev.tollgate.daemon.stats.DaemonMetrics;
import dev.tollgate.store.AccessJournal;
import dev.tollgate.store.AccessLog;
import dev.tollgate.store.JournalReader;
import dev.tollgate.store.RecordChain;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The daemon's push sinks (tollgate.json's {@code sinks}): each one a reader of the audit journal with its own
 * committed position ({@link SinkPosition}), a transport to its receiver, and a thread ({@link SinkPump}).
 * <p>
 * In two steps, because the journal must know its readers before it opens (its replay after a crash would delete
 * segments a sink has not delivered): {@link #prepare} reads the positions and gives {@link #journalReaders} to
 * {@link AccessLog#open}; {@link #start} then starts a pump per sink.
 */
public final class Sinks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Sinks.class);

    private final List<SinkConfig> configs;
    private final Map<String, SinkPosition> positions = new LinkedHashMap<>();
    private final List<SinkPump> pumps = new ArrayList<>();

    private Sinks(List<SinkConfig> configs) {
        this.configs = List.copyOf(configs);
    }

    /** Reads each configured sink's position from {@code <stateDir>/sinks}. */
    public static Sinks prepare(List<SinkConfig> configs, Path stateDir) throws IOException {
        Sinks sinks = new Sinks(configs);
        for (SinkConfig config : configs) {
            sinks.positions.put(config.name(), SinkPosition.load(stateDir, config.name()));
        }
        return sinks;
    }

    /** The journal readers to open the access log with: one per sink, at its position. */
    public List<JournalReader.Start> journalReaders() {
        return configs.stream().map(c -> new JournalReader.Start(c.name(), positions.get(c.name()).seq(),
                c.blocks())).toList();
    }

    /**
     * Starts a pump per sink on {@code log}'s journal and {@code node}'s admin-event trail.
     *
     * @param journalMaxBytes {@code store.journalMaxBytes}: where a {@code drop} sink gives up its backlog
     * @param metrics         where each sink's counts and lag are exposed
     * @param alarm           takes a one-line account of records a sink gave up or found missing
     */
    public void start(AccessLog log, String node, long journalMaxBytes, DaemonMetrics metrics,
                      Consumer<String> alarm) throws IOException, SQLException {
        AccessJournal journal = log.writer().journal();
        for (SinkConfig config : configs) {
            JournalReader reader = log.journalReader(config.name());
            SinkPosition position = positions.get(config.name());
            if (position.seq() == JournalReader.Start.FROM_NOW) {
                // A new sink's start is saved before any record is appended for it: a crash before its first
                // delivery must not make the next start begin "from now" again, past what waited for it.
                position = position.save(reader.delivered(), RecordChain.genesis(),
                        adminEventsFrom(log, node));
            }
            SinkPump pump = new SinkPump(config, reader, position,
                    transportFor(config), () -> journal.depthBytes() >= journalMaxBytes, alarm,
                    (after, limit) -> log.adminEvents().ofNodeAfter(node, after, limit));
            pumps.add(pump);
            metrics.bindSink(config.name(), pump, new DaemonMetrics.SinkGauges<>(SinkPump::delivered,
                    SinkPump::retries, SinkPump::skipped, SinkPump::missing, SinkPump::lagRecords,
                    SinkPump::lagSeconds, p -> p.state() == SinkPump.State.UP));
            pump.start();
        }
    }

    /** Each sink's state, in the configuration's order. */
    public List<ProxyControl.Sink> health() {
        return pumps.stream().map(p -> new ProxyControl.Sink(p.config().name(), p.config().type(), p.target(),
                p.state().name(), p.reason(), p.delivered(), p.retries(), p.skipped(), p.missing(), p.position(),
                p.lagRecords(), p.lagSeconds())).toList();
    }

    /** Each running pump, for the metrics. */
    public List<SinkPump> pumps() {
        return List.copyOf(pumps);
    }

    /**
     * Gives every sink up to {@code timeoutMs} to deliver what is appended so far (a graceful stop, after the
     * listeners stopped); what is left waits in the journal for the next start.
     */
    public void drain(long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (SinkPump pump : pumps) {
            try {
                if (!pump.awaitCaughtUp(Math.max(0, deadline - System.currentTimeMillis()))) {
                    LOG.warn("sink {} - {} records not delivered at stop; the journal keeps them for the next start",
                            pump.config().name(), pump.lagRecords());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        for (SinkPump pump : pumps) {
            pump.close();
        }
    }

    /** A new sink sends the admin events recorded from its start on. */
    private static long adminEventsFrom(AccessLog log, String node) throws IOException {
        try {
            return log.adminEvents().headSeq(node);
        } catch (SQLException e) {
            throw new IOException("reading the admin-event trail's head failed: " + e.getMessage(), e);
        }
    }

    private static SinkTransport transportFor(SinkConfig config) {
        return switch (config.type()) {
            case SinkConfig.FILE -> new FileTransport(config);
            case SinkConfig.OTLP -> new OtlpTransport(config);
            case SinkConfig.SYSLOG -> config.relp() ? new RelpTransport(config) : new SyslogTransport(config);
            default -> throw new IllegalArgumentException("sinks: no sink of type " + config.type());
        };
    }
}
