package dev.tollgate.store;

import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.DriverManagerDataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The access log's database, open: schema migrated, writer running. The daemon opens one at start and closes
 * it last, after the listeners, so that every record they produce is stored.
 */
public final class AccessLog implements AutoCloseable {

    public static final String MIGRATIONS = "classpath:db/migration";

    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);

    private final String name;
    private final DriverManagerDataSource dataSource;
    private final Connection keepOpen;
    private final AccessLogWriter writer;
    private final KeyIndexer keyIndexer;
    private final AccessLogReader reader;
    private final AdminEventLog adminEvents;
    private final ListenerStore listeners;
    private boolean closed;

    private AccessLog(String name, DriverManagerDataSource dataSource, Connection keepOpen, AccessLogWriter writer,
            KeyIndexer keyIndexer) {
        this.name = name;
        this.dataSource = dataSource;
        this.keepOpen = keepOpen;
        this.writer = writer;
        this.keyIndexer = keyIndexer;
        this.reader = new AccessLogReader(dataSource);
        this.adminEvents = new AdminEventLog(dataSource);
        this.listeners = new ListenerStore(dataSource);
    }

    /**
     * Opens the database at {@code config.url()}, brings its schema up to date and starts the writer and the
     * {@link KeyIndexer} (every {@value KeyIndexer#DEFAULT_INTERVAL_MS} ms). An H2
     * file URL gets {@code WRITE_DELAY=0} and {@code DB_CLOSE_ON_EXIT=FALSE} unless it sets them (see
     * {@link DatabaseUrl#withAuditSettings}).
     *
     * @throws IllegalArgumentException when {@code config.url()} is null (the daemon fills in its default)
     * @throws SQLException             when the database cannot be opened or migrated
     */
    public static AccessLog open(StoreConfig config) throws SQLException {
        return open(config, AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS);
    }

    static AccessLog open(StoreConfig config, long closeTimeoutMs) throws SQLException {
        return open(config, closeTimeoutMs, KeyIndexer.DEFAULT_INTERVAL_MS);
    }

    /** As {@link #open(StoreConfig)}, for tests that decide when keys are indexed (a long interval, then indexNow). */
    static AccessLog open(StoreConfig config, long closeTimeoutMs, long keyIndexIntervalMs) throws SQLException {
        if (config.url() == null) {
            throw new IllegalArgumentException("url: not set (the daemon fills in the H2 file in its state directory)");
        }
        String name = DatabaseUrl.masked(config.url());
        DriverManagerDataSource dataSource = new DriverManagerDataSource(
                DatabaseUrl.withAuditSettings(config.url()), config.user(), config.password());
        // An embedded H2 database closes with its last connection. This one keeps it open from migration to
        // close(): the writer's reconnects do not reopen the file, and a jdbc:h2:mem: database keeps its schema.
        Connection keepOpen = DatabaseUrl.isEmbeddedH2(config.url()) ? dataSource.getConnection() : null;
        try {
            migrate(name, dataSource);
            AccessLogWriter writer = AccessLogWriter.start(name, dataSource, config, closeTimeoutMs);
            KeyIndexer keyIndexer = KeyIndexer.start(name, dataSource, keyIndexIntervalMs,
                    () -> writer.queueDepth() > config.batchSize());
            LOG.info("{} - access log open", name);
            return new AccessLog(name, dataSource, keepOpen, writer, keyIndexer);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(keepOpen);
            throw e;
        }
    }

    /** The writer that request threads hand their records to. */
    public AccessLogWriter writer() {
        return writer;
    }

    /**
     * Indexes hosts and clients in the background. Retention uses its {@link KeyIndexer#deleteKeysBelow}; a
     * tool that needs every row indexed at once calls {@link KeyIndexer#indexNow()}.
     */
    public KeyIndexer keyIndexer() {
        return keyIndexer;
    }

    /** Reads stored records back: filtered pages and whole exports. */
    public AccessLogReader reader() {
        return reader;
    }

    /** Who changed what through the admin API, in the same database. */
    public AdminEventLog adminEvents() {
        return adminEvents;
    }

    /** The listeners created through the admin API, with their last state, in the same database. */
    public ListenerStore listeners() {
        return listeners;
    }

    /**
     * A new connection on every {@code getConnection()}, no pool. Close what you borrow: an open connection
     * keeps an H2 file open, and locked against other processes, after {@link #close()}.
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Stops the key indexer (what it has not indexed yet is indexed at the next open), closes the writer,
     * which stores everything queued (see {@link AccessLogWriter#close()}), then the
     * database: an H2 file closes with this, its last connection, and another process may open it. Calling it
     * again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        keyIndexer.close();
        writer.close();
        closeQuietly(keepOpen);
        LOG.info("{} - access log closed", name);
    }

    private static void migrate(String name, DataSource dataSource) throws SQLException {
        try {
            Flyway.configure(AccessLog.class.getClassLoader())
                    .dataSource(dataSource)
                    .locations(MIGRATIONS)
                    .load()
                    .migrate();
        } catch (FlywayException e) {
            throw new SQLException(name + " - migrating the access log failed: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            LOG.warn("Closing the access-log database failed", e);
        }
    }
}
