package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogInserter;
import dev.tollgate.store.internal.AccessLogTable;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * The access log's database, open: schema migrated, writer running. The daemon opens one at start and closes
 * it last, after the listeners, so that every record they produce is stored.
 * <p>
 * A little past 400 lines: it is the store's composition root (the data source and the query pool, the
 * migration, the journal and its replay, the writer, the key indexer, the reader, the admin-event trail, the
 * listener store, the checkpointer), and the order in which they open and close is the point of keeping them in
 * one place.
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
    private final AccessJournal journal;
    private final boolean deleteJournalOnClose;
    private final KeyIndexer keyIndexer;
    private final AccessLogReader reader;
    private final AccessSummary summary;
    private final AdminEventLog adminEvents;
    private final ListenerStore listeners;
    private ChainCheckpointer checkpointer;
    private boolean closed;

    private AccessLog(String name, DataSource dataSource, HikariDataSource queryPool, Connection keepOpen,
            AccessLogWriter writer, AccessJournal journal, boolean deleteJournalOnClose, KeyIndexer keyIndexer) {
        this.name = name;
        this.journal = journal;
        this.deleteJournalOnClose = deleteJournalOnClose;
        this.dataSource = dataSource;
        this.queryPool = queryPool;
        this.keepOpen = keepOpen;
        this.writer = writer;
        this.keyIndexer = keyIndexer;
        this.reader = new AccessLogReader(dataSource, keyIndexer.isActive());
        this.summary = new AccessSummary(dataSource);
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

    /**
     * As {@link #open(StoreConfig)}, with the node's journal in {@code journalDir} (the daemon's
     * {@code <stateDir>/journal}): every record it still holds from an earlier run, one that crashed or was killed,
     * is stored now, before this returns, except those the database already has. {@link #open(StoreConfig)} keeps
     * its journal in a temporary directory that {@link #close()} deletes, for tools and tests that need no crash
     * recovery.
     *
     * @param node the node whose journal it is: its numbering goes on from the highest the database holds for it
     */
    public static AccessLog open(StoreConfig config, Path journalDir, String node) throws SQLException {
        return open(config, journalDir, node, List.of());
    }

    /**
     * As {@link #open(StoreConfig, Path, String)}, with more readers of the journal than the database's writer (the
     * push sinks), each at the position it committed: {@link #journalReader} hands them out.
     */
    public static AccessLog open(StoreConfig config, Path journalDir, String node,
                                 List<JournalReader.Start> journalReaders) throws SQLException {
        return open(config, journalDir, node, journalReaders, AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS,
                KeyIndexer.DEFAULT_INTERVAL_MS);
    }

    static AccessLog open(StoreConfig config, long closeTimeoutMs) throws SQLException {
        return open(config, closeTimeoutMs, KeyIndexer.DEFAULT_INTERVAL_MS);
    }

    /** As {@link #open(StoreConfig)}, for tests that decide when keys are indexed (a long interval, then indexNow). */
    static AccessLog open(StoreConfig config, long closeTimeoutMs, long keyIndexIntervalMs) throws SQLException {
        return open(config, null, null, closeTimeoutMs, keyIndexIntervalMs);
    }

    static AccessLog open(StoreConfig config, Path journalDir, String node, long closeTimeoutMs,
                          long keyIndexIntervalMs) throws SQLException {
        return open(config, journalDir, node, List.of(), closeTimeoutMs, keyIndexIntervalMs);
    }

    private static AccessLog open(StoreConfig config, Path journalDir, String node,
                                  List<JournalReader.Start> journalReaders, long closeTimeoutMs,
                                  long keyIndexIntervalMs) throws SQLException {
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
        AccessJournal journal = null;
        try {
            migrate(name, vendor, direct);
            // Embedded H2 needs no pool: a connection is a session inside this process, opened in microseconds.
            if (vendor == Vendor.POSTGRESQL) {
                queryPool = QueryPool.open("tollgate-queries", url, config.user(), password);
            }
            DataSource queries = queryPool != null ? queryPool : direct;
            boolean temporaryJournal = journalDir == null;
            Path dir = temporaryJournal ? Files.createTempDirectory("tollgate-journal") : journalDir;
            long floor = highestSeq(direct, vendor, node);
            journal = AccessJournal.open(dir, config.journalSegmentBytes(), config.fsync(), floor, journalReaders,
                    (opened, records) -> replay(name, vendor, direct, opened, records, config.batchSize(), floor));
            AccessLogWriter writer = AccessLogWriter.start(name, direct, vendor, journal, config, closeTimeoutMs);
            KeyIndexer keyIndexer = vendor == Vendor.H2
                    ? KeyIndexer.start(name, direct, keyIndexIntervalMs, () -> writer.queueDepth() > config.batchSize())
                    : KeyIndexer.none();
            LOG.info("{} - access log open", name);
            return new AccessLog(name, queries, queryPool, keepOpen, writer, journal, temporaryJournal, keyIndexer);
        } catch (IOException e) {
            closeAfterFailure(queryPool, journal, keepOpen);
            throw new SQLException(name + " - cannot open the journal: " + e, e);
        } catch (SQLException | RuntimeException e) {
            closeAfterFailure(queryPool, journal, keepOpen);
            throw e;
        }
    }

    private static void closeAfterFailure(HikariDataSource queryPool, AccessJournal journal, Connection keepOpen) {
        if (queryPool != null) {
            queryPool.close();
        }
        if (journal != null) {
            journal.close();
        }
        closeQuietly(keepOpen);
    }

    /**
     * The highest journal number the database holds for {@code node} (for any node when null), or 0: a journal
     * lost or deleted by hand must not number new records under numbers already stored, and what a restart finds
     * in the journal at or below it is stored already on H2 ({@link #replay}).
     */
    private static long highestSeq(DataSource dataSource, Vendor vendor, String node) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return AccessLogTable.highestStoredSeq(c, vendor, node);
        }
    }

    /**
     * Stores the records an earlier run left in the journal, in batches, skipping those the database already
     * has, and releases each. On H2 those are the ones at or below {@code floor}, the highest number stored: the
     * writer stores records in journal order (AccessLogWriter), and the table has no index on the number. On
     * PostgreSQL, where several nodes share the table, they are looked up by node and number range through V7's
     * unique index.
     */
    private static void replay(String name, Vendor vendor, DataSource dataSource, AccessJournal journal,
                               List<JournaledRecord> records, int batchSize, long floor) throws SQLException {
        if (records.isEmpty()) {
            return;
        }
        Set<String> stored = vendor == Vendor.H2 ? Set.of() : storedAlready(dataSource, records);
        List<JournaledRecord> missing = new ArrayList<>();
        for (JournaledRecord r : records) {
            boolean isStored = vendor == Vendor.H2 ? r.seq() <= floor
                    : stored.contains(r.seq() + "@" + AccessLogTable.fit(r.record().node(), AccessLogTable.NODE_WIDTH));
            if (isStored) {
                journal.release(r.seq());
            } else {
                missing.add(r);
            }
        }
        AccessLogInserter inserter = new AccessLogInserter(dataSource, vendor, journal::release);
        try {
            for (int from = 0; from < missing.size(); from += batchSize) {
                inserter.insert(new ArrayList<>(missing.subList(from, Math.min(missing.size(), from + batchSize))));
            }
        } finally {
            inserter.close();
        }
        LOG.info("{} - journal replayed: {} records stored now, {} were stored already", name, missing.size(),
                records.size() - missing.size());
    }

    /** Of {@code records}, those the database holds already, as "seq@node". */
    private static Set<String> storedAlready(DataSource dataSource, List<JournaledRecord> records)
            throws SQLException {
        Set<String> stored = new HashSet<>();
        long low = records.stream().mapToLong(JournaledRecord::seq).min().orElse(0);
        long high = records.stream().mapToLong(JournaledRecord::seq).max().orElse(0);
        try (Connection c = dataSource.getConnection(); PreparedStatement select = c.prepareStatement(
                "SELECT node, seq FROM access_log WHERE node = ? AND seq BETWEEN ? AND ?")) {
            for (String node : records.stream().map(r -> r.record().node()).distinct().toList()) {
                select.setString(1, AccessLogTable.fit(node, AccessLogTable.NODE_WIDTH));
                select.setLong(2, low);
                select.setLong(3, high);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        stored.add(rs.getLong(2) + "@" + rs.getString(1));
                    }
                }
            }
        }
        return stored;
    }

    /** The migration folders for {@code vendor}: the common one and the database's own. */
    public static String[] migrationLocations(Vendor vendor) {
        return new String[] {MIGRATIONS + "/common", MIGRATIONS + "/" + vendor.migrationFolder()};
    }

    /**
     * The journal's reader named {@code name}, given to {@link #open(StoreConfig, Path, String, List)}.
     *
     * @throws IllegalArgumentException when no reader of that name was given
     */
    public JournalReader journalReader(String name) {
        return journal.reader(name).orElseThrow(() -> new IllegalArgumentException("no journal reader " + name));
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

    /** Summaries over a time range from the roll-up tables: series, top-N, totals. */
    public AccessSummary summary() {
        return summary;
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
     * Signs a checkpoint of the node's chain head with {@code signer} every {@code intervalSeconds} while rows are
     * written, and once more at {@link #close()}, after the writer stored its last row (docs/access-log.md, "Tamper
     * evidence"). Called once, by the daemon after {@code open}.
     */
    public synchronized void signCheckpoints(ChainCheckpoints signer, String node, long intervalSeconds) {
        if (checkpointer != null || closed) {
            throw new IllegalStateException("checkpoints are signed already, or the access log is closed");
        }
        checkpointer = ChainCheckpointer.start(dataSource, writer, signer, node, intervalSeconds);
    }

    /**
     * Signs a checkpoint of the writer's head now (reason INTERVAL), unless one covers it already or checkpoints
     * are not signed: for tests and tools.
     *
     * @return whether it wrote one
     */
    public synchronized boolean checkpointNow() throws SQLException {
        return checkpointer != null && checkpointer.checkpointNow(ChainCheckpoints.Reason.INTERVAL);
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
        if (checkpointer != null) {
            checkpointer.close();
        }
        writer.close();
        if (checkpointer != null) {
            try {
                checkpointer.checkpointNow(ChainCheckpoints.Reason.STOP);
            } catch (SQLException | RuntimeException e) {
                LOG.warn("{} - the checkpoint at the stop failed: {}", name, e.toString());
            }
        }
        journal.close();
        if (deleteJournalOnClose) {
            deleteTemporaryJournal(journal.directory());
        }
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

    private static void deleteTemporaryJournal(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.warn("cannot delete the temporary journal {}: {}", dir, e.toString());
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
