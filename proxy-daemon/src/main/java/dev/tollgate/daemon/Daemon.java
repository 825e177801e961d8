package dev.tollgate.daemon;

import dev.tollgate.admin.AdminServer;
import dev.tollgate.admin.AdminTokens;
import dev.tollgate.admin.ControlException;
import dev.tollgate.admin.ReloadReport;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.sink.Sinks;
import dev.tollgate.daemon.stats.DaemonMetrics;
import dev.tollgate.daemon.stats.TrafficStats;
import dev.tollgate.daemon.tls.LeafCertificates;
import dev.tollgate.store.AccessJournal;
import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AdminEvent;
import dev.tollgate.store.AuditorSqlServer;
import dev.tollgate.store.ChainCheckpoints;
import dev.tollgate.store.CheckpointKey;
import dev.tollgate.store.RetentionPurger;
import dev.tollgate.store.internal.Directories;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The composition root: opens the access log and its retention, starts the admin API and the listeners, and on
 * close stops them in the reverse order so that every accepted request is written before the database closes.
 */
public final class Daemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    /** How long a graceful stop gives the sinks to deliver the last records (the journal keeps what is left). */
    private static final long SINK_DRAIN_MS = 5_000;

    private final TollgateConfig config;
    private final Path configFile;
    private final AtomicBoolean closed = new AtomicBoolean();
    private AccessLog accessLog;
    private AuditorSqlServer sqlServer;
    private RetentionPurger retention;
    private AdminServer admin;
    private ListenerManager listeners;
    private DaemonMetrics metrics;
    private Sinks sinks;
    private ConfigReloader reloader;

    private Daemon(TollgateConfig config, Path configFile) {
        this.config = config;
        this.configFile = configFile;
    }

    /** Starts everything the config describes, with no file to reload it from. */
    public static Daemon start(TollgateConfig config) throws Exception {
        return start(config, null);
    }

    /**
     * Starts everything the config describes; on any failure, what was started is stopped again.
     *
     * @param configFile the file {@code config} was read from, which a reload reads again; null for none
     */
    public static Daemon start(TollgateConfig config, Path configFile) throws Exception {
        Daemon daemon = new Daemon(config, configFile);
        try {
            daemon.startAll();
        } catch (Exception e) {
            daemon.close();
            throw e;
        }
        return daemon;
    }

    private void startAll() throws Exception {
        LOG.info("node {} - starting, state directory {}", config.nodeName(), config.stateDirPath());
        Directories.createIfMissing(config.stateDirPath(), Directories.OWNER_ONLY);
        Directories.requireClosedToOthers(config.stateDirPath(), "stateDir");
        // Before the access log loads H2, which reads the bind address once.
        AuditorSqlServer.configureH2();
        sinks = Sinks.prepare(config.sinks(), config.stateDirPath());
        accessLog = AccessLog.open(config.store(), config.stateDirPath().resolve(AccessJournal.DIRECTORY),
                config.nodeName(), sinks.journalReaders());
        ChainCheckpoints checkpoints = new ChainCheckpoints(CheckpointKey.loadOrCreate(config.stateDirPath()),
                config.nodeName());
        accessLog.signCheckpoints(checkpoints, config.nodeName(), config.store().checkpointIntervalSeconds());
        accessLog.adminEvents().signCheckpointsWith(checkpoints);
        sqlServer = AuditorSqlServer.start(accessLog, config.store(), config.stateDirPath());
        retention = RetentionPurger.start(accessLog.dataSource(), config.store().retentionDays())
                .afterEachPurge(accessLog.keyIndexer()::deleteOrphanKeys)
                .signAnchorsWith(checkpoints);
        AdminTokens tokens = AdminTokens.loadOrCreate(config.stateDirPath());
        metrics = new DaemonMetrics();
        metrics.bindWriter(accessLog.writer());
        sinks.start(accessLog, config.nodeName(), config.store().journalMaxBytes(), metrics, this::sinkAlarm);
        TrafficStats stats = new TrafficStats();
        AccessLogSink sink = new AccessLogSink(accessLog.writer(), config.store().refusesOnOverflow());
        metrics.bindOverflow(sink, AccessLogSink::dropped, AccessLogSink::unlogged);
        AccessEvents events = new AccessEvents(sink, List.of(stats, metrics.accessMetrics()));
        LoopGuard loopGuard = new LoopGuard(config.nodeName());
        listeners = new ListenerManager(config.nodeName(), loopGuard, events, config.drainTimeoutMs(),
                sink::refusesNewRequests, LeafCertificates.onFirstUse(config.stateDirPath()));
        listeners.start();
        reloader = new ConfigReloader(configFile, config, listeners, metrics);
        DaemonControl control = new DaemonControl(config.nodeName(), listeners, stats, accessLog, sink, metrics,
                reloader, new DatabaseBackup(accessLog.dataSource(), config.store().url(), config.stateDirPath()),
                sinks);
        admin = new AdminServer(config.admin().host(), config.admin().port(), Set.copyOf(config.admin()
                .allowedHosts()), config.nodeName(), control, tokens, accessLog);
        admin.start();
        // Before any listener takes traffic, so that the admin API is never reachable through the proxy.
        loopGuard.addOwnPort(admin.port());
        for (ListenerConfig listener : config.listeners()) {
            try {
                reloader.startConfigListener(listener);
            } catch (ListenerException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        control.restoreApiListeners();
        LOG.info("node {} - started", config.nodeName());
    }

    /**
     * Reloads tollgate.json because of a SIGHUP (or {@code systemctl reload}): as {@code POST /api/v1/reload},
     * with the outcome logged and written to the admin-event trail under role {@code SIGNAL}.
     */
    public void reloadOnSignal() {
        if (closed.get() || reloader == null) {
            return;
        }
        AdminEvent event;
        try {
            ReloadReport report = reloader.reload("SIGHUP");
            event = reloadEvent(AdminEvent.OK, 200, report.summary());
        } catch (ControlException e) {
            event = reloadEvent(AdminEvent.REFUSED, e.kind().status(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("reload (SIGHUP) - failed", e);
            event = reloadEvent(AdminEvent.REFUSED, 500, "internal error: " + e);
        }
        try {
            accessLog.adminEvents().record(event);
        } catch (Exception e) {
            LOG.warn("reload (SIGHUP) - could not record it in the admin-event trail", e);
        }
    }

    private AdminEvent reloadEvent(String result, int status, String detail) {
        return new AdminEvent(null, Instant.now(), config.nodeName(), "SIGNAL", null, "config.reload", null, result,
                status, detail);
    }

    /**
     * Records a sink's account of records it gave up or found missing in the admin-event trail (action
     * {@code sink.gap}), so that a receiver's gap has its explanation beside the access log.
     */
    private void sinkAlarm(String account) {
        try {
            accessLog.adminEvents().record(new AdminEvent(null, Instant.now(), config.nodeName(), "SYSTEM", null,
                    "sink.gap", null, "ALARM", 0, account));
        } catch (Exception e) {
            LOG.warn("could not record a sink's gap in the admin-event trail: {}", account, e);
        }
    }

    /** The port a listener actually bound, or -1 when it is not running. */
    public int listenerPort(String name) {
        return listeners == null ? -1 : listeners.boundPort(name);
    }

    /** The open access log (its writer and reader). */
    public AccessLog accessLog() {
        return accessLog;
    }

    /** The port the auditors' SQL server actually bound, or -1 when it is off. */
    public int sqlPort() {
        return sqlServer == null ? -1 : sqlServer.port();
    }

    /** The port the admin API actually bound. */
    public int adminPort() {
        return admin.port();
    }

    /**
     * Graceful stop: listeners stop accepting and drain, the admin API stops, the auditors' SQL server stops
     * (closing their sessions, which would keep the database open), then the access log is flushed and closed.
     * Safe to call more than once and from several threads.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("node {} - stopping", config.nodeName());
        // First: a purge in progress stops after its batch rather than compete with the drain and final flush.
        closeQuietly("retention", retention);
        closeQuietly("listeners", listeners);
        closeQuietly("admin API", admin);
        closeQuietly("SQL server", sqlServer);
        if (sinks != null) {
            sinks.drain(SINK_DRAIN_MS);
        }
        closeQuietly("sinks", sinks);
        closeQuietly("access log", accessLog);
        closeQuietly("metrics", metrics);
        LOG.info("node {} - stopped", config.nodeName());
    }

    private static void closeQuietly(String what, AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.warn("stopping the {} failed", what, e);
        }
    }
}
