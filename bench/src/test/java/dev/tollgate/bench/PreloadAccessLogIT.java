package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.ChainVerifier;
import dev.tollgate.store.CheckpointKey;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.store.internal.AccessLogKeyTable;
import dev.tollgate.store.internal.RowChain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A preloaded state directory is one the daemon's store takes as its own: the rows numbered 1 to N with a chain the
 * store's verifier accepts, the key index caught up, and the store, opened on it as the daemon opens it, storing
 * row N+1 after them, linked to row N.
 */
class PreloadAccessLogIT {

    private static final int ROWS = 20_000;
    private static final String NODE = "preload-node";
    private static final long FLUSH_TIMEOUT_MS = 30_000;

    @TempDir
    Path dir;

    @Test
    void preloadedRowsAreNumberedChainedAndIndexedAndTheStoreGoesOnFromThem() throws Exception {
        Path stateDir = dir.resolve("state");
        Instant end = Instant.now();
        PreloadAccessLog.Result result = PreloadAccessLog.preload(stateDir, ROWS, NODE, Duration.ofDays(30), end);
        assertEquals(ROWS, result.rows());
        CheckpointKey key = CheckpointKey.loadOrCreate(stateDir);

        try (Connection c = connect(stateDir)) {
            assertEquals(List.of((long) ROWS, 1L, (long) ROWS, 0L, 1L), longs(c, "SELECT COUNT(*), MIN(seq), MAX(seq),"
                    + " COUNT(*) FILTER (WHERE seq <> id), COUNT(DISTINCT node) FROM access_log"),
                    "rows, first and last seq, rows whose seq is not their id, nodes");
            assertEquals(List.of(0L), longs(c, "SELECT COUNT(*) FROM access_log WHERE ts < TIMESTAMP WITH TIME ZONE '"
                    + end.minus(Duration.ofDays(31)) + "' OR ts > TIMESTAMP WITH TIME ZONE '" + end + "'"),
                    "rows outside the last 30 days");
            assertIntact(ChainVerifier.verify(c, key.publicKey(), null, null), ROWS);

            assertEquals(List.of((long) ROWS), longs(c, "SELECT id FROM access_log_key_mark"), "the indexer's mark");
            assertEquals(2L * ROWS, keysHeld(c), "a host and a client key per row");
            for (long id : new long[] {1, ROWS / 2, ROWS}) {
                assertKeysPointTo(c, id);
            }
            assertRollUpsCountEveryRow(c, ROWS);
        }

        AccessRecord next = MillionRowAccessLog.row(new Random(1), ROWS, NODE, end.toEpochMilli(), 1, 1);
        // As the daemon opens it: the node's journal in the state directory, numbering on from the database.
        try (AccessLog log = AccessLog.open(new StoreConfig("jdbc:h2:file:" + stateDir.resolve("access"), null, null,
                null, null, null), stateDir.resolve("journal"), NODE)) {
            assertEquals(ROWS + 1, log.writer().append(next), "the journal number of the first new row");
            assertTrue(log.writer().flush(FLUSH_TIMEOUT_MS), "the new row was not stored in time");
            log.keyIndexer().indexNow();
        }

        try (Connection c = connect(stateDir)) {
            byte[] chainOfLast = null;
            byte[] chainOfNext = null;
            byte[] expected = null;
            try (PreparedStatement select = c.prepareStatement("SELECT * FROM access_log WHERE seq >= ? ORDER BY seq")) {
                select.setLong(1, ROWS);
                try (ResultSet rs = select.executeQuery()) {
                    assertTrue(rs.next());
                    chainOfLast = rs.getBytes("chain");
                    assertTrue(rs.next(), "row " + (ROWS + 1) + " is missing");
                    assertEquals(ROWS + 1, rs.getLong("seq"));
                    assertEquals(ROWS + 1, rs.getLong("id"));
                    chainOfNext = rs.getBytes("chain");
                    expected = RowChain.accessLog().next(chainOfLast, rs);
                }
            }
            assertArrayEquals(expected, chainOfNext, "row " + (ROWS + 1) + " links to row " + ROWS + "'s chain");
            assertIntact(ChainVerifier.verify(c, key.publicKey(), null, null), ROWS + 1);
            assertEquals(List.of(ROWS + 1L), longs(c, "SELECT id FROM access_log_key_mark"), "the indexer went on"
                    + " from the preloaded mark");
            assertKeysPointTo(c, ROWS + 1);
            assertRollUpsCountEveryRow(c, ROWS + 1);
        }
    }

    @Test
    void aStateDirectoryWithRowsIsNotPreloadedAgain() throws Exception {
        Path stateDir = dir.resolve("state");
        PreloadAccessLog.preload(stateDir, 10, NODE, Duration.ofDays(1), Instant.now());
        assertThrows(IllegalStateException.class,
                () -> PreloadAccessLog.preload(stateDir, 10, NODE, Duration.ofDays(1), Instant.now()));
        try (Connection c = connect(stateDir)) {
            assertEquals(List.of(10L), longs(c, "SELECT COUNT(*) FROM access_log"));
        }
    }

    /**
     * The roll-ups count {@code rows} requests and their bytes: per minute, per hour, and per host and client (every
     * row of the mix has both). That they equal a GROUP BY key by key is proxy-store's SummaryScenarios' to check.
     */
    private static void assertRollUpsCountEveryRow(Connection c, long rows) throws SQLException {
        List<Long> sums = longs(c, "SELECT COUNT(*), SUM(bytes_from_client), SUM(bytes_to_client) FROM access_log");
        assertEquals(rows, sums.get(0));
        for (String table : new String[] {"access_summary_minute", "access_summary_hour",
            "access_summary_key_hour WHERE dim = 'H'", "access_summary_key_hour WHERE dim = 'C'"}) {
            assertEquals(sums, longs(c, "SELECT SUM(requests), SUM(bytes_from_client), SUM(bytes_to_client) FROM "
                    + table), table);
        }
    }

    /** One line when it fails: a wrong chain makes every row a problem. */
    private static void assertIntact(ChainVerifier.Result verified, long rows) {
        assertTrue(verified.intact(), () -> verified.problems().size() + " problems, the first: "
                + verified.problems().get(0));
        assertEquals(rows, verified.rowsChecked(), "rows whose chain was checked");
    }

    /**
     * The host and client keys of row {@code id}, computed from the row as stored, are each held by exactly one entry
     * of the key table.
     */
    private static void assertKeysPointTo(Connection c, long id) throws SQLException {
        String host;
        String client;
        try (PreparedStatement select = c.prepareStatement("SELECT host, client_addr FROM access_log WHERE id = ?")) {
            select.setLong(1, id);
            try (ResultSet rs = select.executeQuery()) {
                assertTrue(rs.next(), "no row " + id);
                host = rs.getString(1);
                client = rs.getString(2);
            }
        }
        for (long k : new long[] {AccessLogKeyTable.key(AccessLogKeyTable.HOST, host, id),
                AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, client, id)}) {
            assertEquals(1, entriesHolding(c, k), "key " + k + " of row " + id + " (" + host + ", " + client + ")");
        }
    }

    /** How many keys the entries of the key table hold between them. */
    private static long keysHeld(Connection c) throws SQLException {
        long held = 0;
        try (PreparedStatement select = c.prepareStatement("SELECT k, ids FROM access_log_key");
             ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
                held += AccessLogKeyTable.idsOf(rs.getLong(1), rs.getBytes(2)).length;
            }
        }
        return held;
    }

    /** How many entries of the key table hold {@code key}: those of its range that start in its epoch, up to it. */
    private static int entriesHolding(Connection c, long key) throws SQLException {
        long id = AccessLogKeyTable.idOf(key);
        long offset = key - id;
        int holding = 0;
        try (PreparedStatement select = c.prepareStatement(AccessLogKeyTable.SELECT_ENTRIES_SQL)) {
            select.setLong(1, offset + AccessLogKeyTable.firstIdOf(AccessLogKeyTable.epochOf(id)));
            select.setLong(2, key);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    if (LongStream.of(AccessLogKeyTable.idsOf(rs.getLong(1), rs.getBytes(2))).anyMatch(i -> i == id)) {
                        holding++;
                    }
                }
            }
        }
        return holding;
    }

    private static List<Long> longs(Connection c, String sql) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(sql);
             ResultSet rs = select.executeQuery()) {
            assertTrue(rs.next(), sql);
            Long[] values = new Long[rs.getMetaData().getColumnCount()];
            for (int i = 0; i < values.length; i++) {
                values[i] = rs.getLong(i + 1);
            }
            return List.of(values);
        }
    }

    /** The owner, as the preload itself connects. */
    private static Connection connect(Path stateDir) throws Exception {
        return DriverManager.getConnection("jdbc:h2:file:" + stateDir.resolve("access"), StoreConfig.DEFAULT_USER,
                Files.readString(stateDir.resolve(AccessLog.OWNER_PASSWORD_FILE)).trim());
    }
}
