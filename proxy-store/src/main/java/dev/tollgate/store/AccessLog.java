package dev.tollgate.store;

import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.DatabaseUrl.Vendor;
import dev.tollgate.store.internal.DriverManagerDataSource;
import dev.tollgate.store.internal.H2OwnerAccount;
import dev.tollgate.store.internal.QueryPool;

import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The access log's database, open: schema migrated, writer running. The daemon opens one at start and closes
 * it last, after the listeners, so that every record they produce is stored.
 */
public final class AccessLog implements AutoCloseable {

    /** Where the migrations both databases run live; each database's own are in a folder beside it. */
    public static final String MIGRATIONS = "classpath:db/migration";
    /**
     * The file beside an embedded H2 database that holds its owner's password (mode 0600, made at the first
     * start): open the database with it, as {@code store.user}, while the daemon is stopped.
     */
    public static final String OWNER_PASSWORD_FILE = H2OwnerAccount.FILE;

    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);

    private final String name;
    private final DataSource dataSource;
    private final HikariDataSource queryPool;
    private final Connection keepOpen;
    private final AccessLogWriter writer;
    private final KeyIndexer keyIndexer;
    private final AccessLogReader reader;
    private final AdminEventLog adminEvents;
    private final ListenerStore listeners;
    private boolean closed;

    private AccessLog(String name, DataSource dataSource, HikariDataSource queryPool, Connection keepOpen,
            AccessLogWriter writer, KeyIndexer keyIndexer) {
        this.name = name;
        this.dataSource = dataSource;
        this.queryPool = queryPool;
        this.keepOpen = keepOpen;
        this.writer = writer;
        this.keyIndexer = keyIndexer;
        this.reader = new AccessLogReader(dataSource, keyIndexer.isActive());
        this.adminEvents = new AdminEventLog(dataSource);
        this.listeners = new ListenerStore(dataSource);
    }

    /**
     * Opens the database at {@code config.url()}, brings its schema up to date and starts the writer and, on
     * H2, the {@link KeyIndexer} (every {@value KeyIndexer#DEFAULT_INTERVAL_MS} ms). An H2
     * file URL gets {@code WRITE_DELAY=0} and {@code DB_CLOSE_ON_EXIT=FALSE} unless it sets them (see
     * {@link DatabaseUrl#withAuditSettings}). On PostgreSQL, queries borrow from a pool ({@link QueryPool})
     * while the writer keeps a connection of its own; several nodes may open the same database at once
     * (Flyway's lock lets one migrate while the others wait).
     *
     * @throws IllegalArgumentException when {@code config.url()} is null (the daemon fills in its default), or
     *                                  its password file cannot be read
     * @throws SchemaTooNewException    when the database's schema is newer than this build knows
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
        Vendor vendor = DatabaseUrl.vendorOf(config.url());
        String url = DatabaseUrl.withAuditSettings(config.url());
        String password = config.readPassword();
        if (DatabaseUrl.isH2File(config.url())) {
            try {
                password = H2OwnerAccount.prepare(url, config.user(), password);
            } catch (IOException e) {
                throw new SQLException("store: " + e.getMessage(), e);
            }
        }
        DriverManagerDataSource direct = new DriverManagerDataSource(url, config.user(), password);
        // An embedded H2 database closes with its last connection. This one keeps it open from migration to
        // close(): the writer's reconnects do not reopen the file, and a jdbc:h2:mem: database keeps its schema.
        Connection keepOpen = DatabaseUrl.isEmbeddedH2(config.url()) ? direct.getConnection() : null;
        HikariDataSource queryPool = null;
        try {
            migrate(name, vendor, direct);
            // Embedded H2 needs no pool: a connection is a session inside this process, opened in microseconds.
            if (vendor == Vendor.POSTGRESQL) {
                queryPool = QueryPool.open("tollgate-queries", url, config.user(), password);
            }
            DataSource queries = queryPool != null ? queryPool : direct;
            AccessLogWriter writer = AccessLogWriter.start(name, direct, config, closeTimeoutMs);
            KeyIndexer keyIndexer = vendor == Vendor.H2
                    ? KeyIndexer.start(name, direct, keyIndexIntervalMs, () -> writer.queueDepth() > config.batchSize())
                    : KeyIndexer.none();
            LOG.info("{} - access log open", name);
            return new AccessLog(name, queries, queryPool, keepOpen, writer, keyIndexer);
        } catch (SQLException | RuntimeException e) {
            if (queryPool != null) {
                queryPool.close();
            }
            closeQuietly(keepOpen);
            throw e;
        }
    }

    /** The migration folders for {@code vendor}: the common one and the database's own. */
    public static String[] migrationLocations(Vendor vendor) {
        return new String[] {MIGRATIONS + "/common", MIGRATIONS + "/" + vendor.migrationFolder()};
    }

    /** The writer that request threads hand their records to. */
    public AccessLogWriter writer() {
        return writer;
    }

    /**
     * Indexes hosts and clients in the background on H2. Retention uses its {@link KeyIndexer#deleteKeysBelow}; a
     * tool that needs every row indexed at once calls {@link KeyIndexer#indexNow()}. On PostgreSQL, whose
     * B-tree indexes need no help, one that does nothing ({@link KeyIndexer#none()}).
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
     * Connections for queries: on H2 a new one on every {@code getConnection()}, no pool; on PostgreSQL one
     * from the query pool, which {@link #close()} closes. Close what you borrow: an open connection keeps an
     * H2 file open, and locked against other processes, after {@link #close()}.
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
        if (queryPool != null) {
            queryPool.close();
        }
        closeQuietly(keepOpen);
        LOG.info("{} - access log closed", name);
    }

    /**
     * Brings the schema up to date, after refusing one newer than this build knows. On PostgreSQL Flyway holds
     * an advisory lock while it migrates, so of several nodes starting at once one migrates and the others
     * wait, then find nothing left to do.
     */
    private static void migrate(String name, Vendor vendor, DataSource dataSource) throws SQLException {
        try {
            Flyway flyway = Flyway.configure(AccessLog.class.getClassLoader())
                    .dataSource(dataSource)
                    .locations(migrationLocations(vendor))
                    .load();
            refuseNewerSchema(name, flyway);
            flyway.migrate();
        } catch (FlywayException e) {
            // Flyway's message goes on for lines (a ruler, the SQL state, the driver's message again): the first
            // says it all, and the cause keeps the rest.
            String message = String.valueOf(e.getMessage());
            throw new SQLException(name + " - migrating the access log failed: "
                    + message.lines().findFirst().orElse(message), e);
        }
    }

    private static void refuseNewerSchema(String name, Flyway flyway) throws SchemaTooNewException {
        MigrationInfo[] all = flyway.info().all();
        Optional<MigrationVersion> newest = Arrays.stream(all)
                .filter(m -> m.getState() == MigrationState.FUTURE_SUCCESS
                        || m.getState() == MigrationState.FUTURE_FAILED)
                .map(MigrationInfo::getVersion)
                .max(Comparator.naturalOrder());
        if (newest.isPresent()) {
            String known = Arrays.stream(all)
                    .filter(m -> m.getState().isResolved() && m.getVersion() != null)
                    .map(MigrationInfo::getVersion)
                    .max(Comparator.naturalOrder())
                    .map(MigrationVersion::getVersion)
                    .orElse("none");
            throw new SchemaTooNewException(name, newest.get().getVersion(), known);
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
