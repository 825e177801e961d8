package dev.tollgate.bench;

import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.store.internal.AccessLogKeyTable;
import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.Directories;
import dev.tollgate.store.internal.RowChain;
import dev.tollgate.store.internal.SummaryBackfill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;

/**
 * Fills the access log of a Tollgate state directory ({@code <stateDir>/access.mv.db}, the daemon's own file) with
 * N rows of {@link MillionRowAccessLog}'s mix (seeded: about 5,000 hosts, a fifth under *.example.com, 1,000
 * clients, one user, long tunnels), spread over the last {@code --days} days, so that the proxy can be measured
 * against a log that already holds millions of rows (docs/performance.md, "Preloading the access log"):
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.tollgate.bench.PreloadAccessLog --state-dir DIR --rows N [--node NAME] [--days 30]
 * </pre>
 * The schema is made by the store itself ({@link AccessLog#open}, which also makes the owner's password file), on
 * an empty log only. The rows then go in on one connection, in JDBC batches of {@value #BATCH_ROWS} of the
 * writer's own insert ({@link AccessLogTable#bind}), {@value #COMMIT_ROWS} to a commit: the writer itself, with
 * its journal and a commit per batch, stores about 8,000 rows/s, too few for 100 million.
 * <p>
 * The rows are what the daemon would have written, so that a daemon started on the directory goes on from them and
 * {@code tollgate verify} passes: node {@code --node} (by default the name the daemon gives itself when its config
 * names none, as bench/start-tollgate.sh's does not), seq 1 to N, and each row's chain computed by {@link RowChain}
 * exactly as {@code AccessLogInserter} does. The daemon reads its numbering and its chain's head from the newest
 * row, so it continues both.
 * <p>
 * The host and client keys ({@link AccessLogKeyTable}) are filled here too, and the key indexer's mark
 * ({@code access_log_key_mark}, the highest row id whose keys are stored; the indexer reads the rows above it)
 * set to the last row, in the same transaction as each commit's rows, as the indexer does. Left to the daemon, the
 * indexer would read and index the whole preloaded log in its first minutes, 10,000 rows a round, while it is
 * being measured. A key holds its row's id, which the database gives: on an empty table, in one session, the
 * ids are 1 to N in insert order, which each commit checks (the highest id equals the rows inserted).
 * <p>
 * The roll-up tables (docs/access-log.md, "Roll-ups") are filled last, in one transaction, by the same GROUP BY the
 * migration that made them runs on a log stored before them ({@link SummaryBackfill}), so that they count every
 * preloaded row, as the writer and the key indexer would have; the time it takes is that migration's on this log.
 */
public final class PreloadAccessLog {

    /** Rows per JDBC batch. */
    static final int BATCH_ROWS = 1_000;
    /** Rows per commit: their keys go in with them, sorted, as one of the key indexer's rounds. */
    static final int COMMIT_ROWS = 10_000;
    static final int DEFAULT_DAYS = 30;
    /** Up to MillionRowAccessLog's jitter after a row's place: the newest row is not in the future. */
    private static final long JITTER_MS = 2_000;

    private PreloadAccessLog() {
    }

    /**
     * What a preload did.
     *
     * @param rows      rows stored
     * @param elapsed   the time it took, from the empty migrated log to the last commit, roll-ups included
     * @param rollUps   of which filling the roll-up tables
     * @param fileBytes the size of access.mv.db once closed
     */
    record Result(long rows, Duration elapsed, Duration rollUps, long fileBytes) {

        double rowsPerSecond() {
            return rows * 1e9 / Math.max(1, elapsed.toNanos());
        }
    }

    public static void main(String[] args) throws Exception {
        Path stateDir = null;
        long rows = -1;
        String node = null;
        int days = DEFAULT_DAYS;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--state-dir" -> stateDir = Path.of(required(args[i], value));
                case "--rows" -> rows = Long.parseLong(required(args[i], value));
                case "--node" -> node = required(args[i], value);
                case "--days" -> days = Integer.parseInt(required(args[i], value));
                default -> usage("unknown argument " + args[i]);
            }
            i++;
        }
        if (stateDir == null || rows < 1) {
            usage("--state-dir and --rows (at least 1) are needed");
        }
        if (days < 1) {
            usage("--days must be at least 1, not " + days);
        }
        // As the daemon names itself when its config has no "node" (NodeName, through TollgateConfig).
        node = node != null ? node : TollgateConfig.defaults().nodeName();
        Result result = preload(stateDir, rows, node, Duration.ofDays(days), Instant.now());
        System.out.printf("%s: %,d rows of node %s in %.1f s (%,.0f rows/s; roll-ups %.1f s); access.mv.db %,d bytes"
                + " (%.2f GB)%n", stateDir, result.rows(), node, result.elapsed().toNanos() / 1e9,
                result.rowsPerSecond(), result.rollUps().toNanos() / 1e9, result.fileBytes(), result.fileBytes() / 1e9);
    }

    /**
     * Makes {@code stateDir} if missing (owner-only, as the daemon does), creates the access log's schema there and
     * stores {@code rows} rows of {@code node} spread over the {@code span} before {@code end}.
     *
     * @throws IllegalStateException when the directory's access log holds rows already
     */
    static Result preload(Path stateDir, long rows, String node, Duration span, Instant end)
            throws SQLException, IOException {
        long spanMs = span.toMillis();
        if (spanMs < 1 || rows > Long.MAX_VALUE / spanMs) {
            // MillionRowAccessLog.row places row i at i * spanMs / rows.
            throw new IllegalArgumentException(rows + " rows over " + span + ": too many rows or too long a span");
        }
        Directories.createIfMissing(stateDir, Directories.OWNER_ONLY);
        String url = "jdbc:h2:file:" + stateDir.toAbsolutePath().normalize().resolve("access");
        try (AccessLog log = AccessLog.open(new StoreConfig(url, null, null, null, null, null))) {
            try (Connection c = log.dataSource().getConnection()) {
                long stored = count(c);
                if (stored != 0) {
                    throw new IllegalStateException(stateDir + ": the access log holds " + stored
                            + " rows already; preload an empty state directory");
                }
            }
        }
        String password = Files.readString(stateDir.resolve(AccessLog.OWNER_PASSWORD_FILE)).trim();
        long started = System.nanoTime();
        long rollUpsStarted;
        try (Connection c = DriverManager.getConnection(url, StoreConfig.DEFAULT_USER, password)) {
            c.setAutoCommit(false);
            fill(c, rows, node, end.toEpochMilli() - JITTER_MS - spanMs, spanMs);
            rollUpsStarted = System.nanoTime();
            SummaryBackfill.run(c, DatabaseUrl.Vendor.H2);
            c.commit();
        }
        long ended = System.nanoTime();
        return new Result(rows, Duration.ofNanos(ended - started), Duration.ofNanos(ended - rollUpsStarted),
                Files.size(stateDir.resolve("access.mv.db")));
    }

    private static void fill(Connection c, long rows, String node, long startMs, long spanMs) throws SQLException {
        RowChain<AccessRecord> rowChain = RowChain.accessLog();
        byte[] chain = RowChain.genesis();
        Random random = new Random(MillionRowAccessLog.SEED);
        long[] keys = new long[2 * COMMIT_ROWS];
        int keyCount = 0;
        long reportedAt = System.nanoTime();
        try (PreparedStatement insert = c.prepareStatement(AccessLogTable.insertSql(DatabaseUrl.Vendor.H2));
             PreparedStatement updateMark = c.prepareStatement(AccessLogKeyTable.UPDATE_MARK_SQL)) {
            for (long seq = 1; seq <= rows; seq++) {
                AccessRecord r = MillionRowAccessLog.row(random, seq - 1, node, startMs, spanMs, rows);
                chain = rowChain.next(chain, seq, r);
                AccessLogTable.bind(insert, seq, r, chain);
                insert.addBatch();
                // The row's id is its seq (checked at the commit); the values as stored, as the indexer reads them.
                keys[keyCount++] = AccessLogKeyTable.key(AccessLogKeyTable.HOST,
                        AccessLogTable.fit(r.host(), AccessLogTable.HOST_WIDTH), seq);
                keys[keyCount++] = AccessLogKeyTable.key(AccessLogKeyTable.CLIENT,
                        AccessLogTable.fit(r.clientAddr(), AccessLogTable.CLIENT_ADDR_WIDTH), seq);
                if (seq % BATCH_ROWS == 0 || seq == rows) {
                    insert.executeBatch();
                }
                if (seq % COMMIT_ROWS == 0 || seq == rows) {
                    checkIds(c, seq);
                    // Sorted, so that they fill the newest epochs' pages in order, as the indexer's rounds do.
                    Arrays.sort(keys, 0, keyCount);
                    AccessLogKeyTable.insertKeys(c, keys, keyCount);
                    keyCount = 0;
                    updateMark.setLong(1, seq);
                    updateMark.executeUpdate();
                    c.commit();
                    if (System.nanoTime() - reportedAt > 10_000_000_000L) {
                        System.err.printf("%,d of %,d rows%n", seq, rows);
                        reportedAt = System.nanoTime();
                    }
                }
            }
        }
    }

    /** Fails unless the {@code inserted} rows of the table, empty before, have the ids 1 to {@code inserted}. */
    private static void checkIds(Connection c, long inserted) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT MAX(id) FROM access_log")) {
            rs.next();
            long highest = rs.getLong(1);
            if (highest != inserted) {
                throw new IllegalStateException("after " + inserted + " rows the highest id is " + highest
                        + ", not " + inserted + ": the keys would point to the wrong rows");
            }
        }
    }

    private static long count(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM access_log")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String required(String option, String value) {
        if (value == null) {
            usage(option + " needs a value");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: PreloadAccessLog --state-dir DIR --rows N [--node NAME] [--days "
                + DEFAULT_DAYS + "]");
        System.exit(2);
    }
}
