package dev.tollgate.daemon;

import dev.tollgate.admin.AdminServer;
import dev.tollgate.admin.ProxyControl;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.proxy.LoopGuard;
import dev.tollgate.store.AccessLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The composition root: opens the access log, starts the admin API and the listeners, and on close stops them
 * in the reverse order so that every accepted request is written before the database closes.
 */
public final class Daemon implements ProxyControl, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final TollgateConfig config;
    private final AtomicBoolean closed = new AtomicBoolean();
    private AccessLog accessLog;
    private AdminServer admin;
    private ListenerManager listeners;

    private Daemon(TollgateConfig config) {
        this.config = config;
    }

    /** Starts everything the config describes; on any failure, what was started is stopped again. */
    public static Daemon start(TollgateConfig config) throws Exception {
        Daemon daemon = new Daemon(config);
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
        createStateDir(config.stateDirPath());
        accessLog = AccessLog.open(config.store());
        AccessEvents events = new AccessEvents(List.of(accessLog.writer()::append));
        LoopGuard loopGuard = new LoopGuard(config.nodeName());
        admin = new AdminServer(config.admin().host(), config.admin().port(), this);
        admin.start();
        loopGuard.addOwnPort(admin.port());
        listeners = new ListenerManager(config.nodeName(), loopGuard, events, config.drainTimeoutMs());
        listeners.start(config.listeners());
        LOG.info("node {} - started", config.nodeName());
    }

    /** The port a listener actually bound, or -1 when it is not running. */
    public int listenerPort(String name) {
        return listeners == null ? -1 : listeners.boundPort(name);
    }

    /** The open access log (its writer and reader). */
    public AccessLog accessLog() {
        return accessLog;
    }

    /** The port the admin API actually bound. */
    public int adminPort() {
        return admin.port();
    }

    @Override
    public Health health() {
        boolean storeUp;
        try (Connection connection = accessLog.dataSource().getConnection()) {
            storeUp = connection.isValid(2);
        } catch (SQLException e) {
            storeUp = false;
        }
        return new Health(storeUp ? "UP" : "DEGRADED", storeUp ? "UP" : "DOWN");
    }

    /**
     * Graceful stop: listeners stop accepting and drain, the admin API stops, then the access log is flushed
     * and closed. Safe to call more than once and from several threads.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("node {} - stopping", config.nodeName());
        closeQuietly("listeners", listeners);
        closeQuietly("admin API", admin);
        closeQuietly("access log", accessLog);
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

    private static void createStateDir(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }
}
