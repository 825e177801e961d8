package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.RowChain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hash chain on a real database: rows written through the real writer, then changed by hand as the database's
 * owner (who can write anything), each change found by {@link ChainVerifier} with the message that names it. On H2
 * in ChainVerifyIT, on PostgreSQL in PgChainVerifyIT.
 */
public abstract class ChainVerifyScenarios {

    private static final String NODE = "node-c";
    private static final long WAIT_MS = 30_000;
    private static final int ROWS = 10;
    private static final long DAY_MS = 24L * 60 * 60 * 1000;

    @TempDir
    protected Path dir;
    private CheckpointKey key;

    /** The store the scenarios write to; {@link #connect()} reaches the same database as its owner. */
    protected abstract StoreConfig config();

    /** A connection as the database's owner, who can write anything. */
    protected abstract Connection connect() throws SQLException;

    /** Runs first before each test: makes the database when it is not a file made on open. */
    protected void prepareDatabase() throws SQLException {
    }

    /** Whether several nodes write this database (PostgreSQL); an H2 file is one node's alone. */
    protected boolean sharedByNodes() {
        return false;
    }

    /** Done by hand before a row with a number already stored is inserted: nothing on H2, which has no index. */
    protected void allowADuplicateNumber() throws SQLException {
    }

    @BeforeEach
    protected void writeTenRowsAndAStopCheckpoint() throws Exception {
        prepareDatabase();
        key = CheckpointKey.loadOrCreate(dir);
        try (AccessLog log = AccessLog.open(config(), dir.resolve("journal"), NODE)) {
            log.signCheckpoints(new ChainCheckpoints(key, NODE), NODE, 3600);
            for (int i = 1; i <= ROWS; i++) {
                // Seq 1 to 4 and 7 (a long tunnel, ended among young rows) are past a retention of 90 days.
                boolean old = i <= 4 || i == 7;
                log.writer().append(record("/" + i, System.currentTimeMillis() - (old ? 100 : 0) * DAY_MS));
                if (i == 5) {
                    // Checkpoint number 1, at seq 5; the stop signs number 2, at seq 10.
                    assertTrue(log.writer().flush(WAIT_MS));
                    assertTrue(log.checkpointNow());
                }
            }
            assertTrue(log.writer().flush(WAIT_MS));
        }
    }

    @Test
    void theUntouchedLogIsIntact() throws Exception {
        ChainVerifier.Result result = verify();

        assertEquals(List.of(), result.problems());
        assertEquals(ROWS, result.rowsChecked());
        assertEquals(2, result.checkpointsVerified(), "one at seq 5 and the stop's");
        assertEquals(List.of(NODE + ": seq 1 to " + ROWS), result.ranges());
    }

    @Test
    void anUpdateIsReportedAsThatRowAltered() throws Exception {
        sql("UPDATE access_log SET status = 404 WHERE seq = 5");

        assertEquals("row id " + idOf(5) + " (node " + NODE + ", seq 5) was altered: its hash does not match its"
                + " content", firstProblem());
    }

    @Test
    void aDeleteInTheMiddleIsReportedAsTheRowsDeleted() throws Exception {
        sql("DELETE FROM access_log WHERE seq IN (5, 6)");

        assertEquals("rows between seq 5 and 6 of node " + NODE + " were deleted: row id " + idOf(7) + " (seq 7) does"
                + " not link to seq 4", firstProblem());
    }

    @Test
    void aDeleteOfTheNewestRowsIsCaughtByTheCheckpoint() throws Exception {
        sql("DELETE FROM access_log WHERE seq >= 9");

        String problem = firstProblem();
        assertTrue(problem.startsWith("rows of node " + NODE + " after seq 8 were deleted: checkpoint id "), problem);
        assertTrue(problem.endsWith(" covers seq 10"), problem);
    }

    @Test
    void aRowInsertedByHandWithoutAChainIsReported() throws Exception {
        sql("INSERT INTO access_log (ts, node, listener, kind, outcome, host) VALUES (CURRENT_TIMESTAMP, '" + NODE
                + "', 'public', 'FORWARD', 'OK', 'forged.example')");
        long id = single("SELECT id FROM access_log WHERE host = 'forged.example'");

        assertEquals("row id " + id + " (node " + NODE + ", seq none) was inserted: it has no journal number",
                firstProblem());
    }

    @Test
    void aRowInsertedByHandIntoTheChainIsReported() throws Exception {
        // A copy of row 5 with another host, its number and even its chain: it does not hash to that chain, and
        // row 6 links to row 5, past it.
        allowADuplicateNumber();
        sql("INSERT INTO access_log (ts, duration_ms, node, listener, client_addr, client_port, kind, protocol,"
                + " method, host, port, path, status, bytes_from_client, bytes_to_client, outcome, seq, chain)"
                + " SELECT ts, duration_ms, node, listener, client_addr, client_port, kind, protocol, method,"
                + " 'forged.example', port, path, status, bytes_from_client, bytes_to_client, outcome, seq, chain"
                + " FROM access_log WHERE seq = 5");
        long id = single("SELECT id FROM access_log WHERE host = 'forged.example'");

        assertEquals("row id " + id + " (node " + NODE + ", seq 5) was inserted: it is not in the chain",
                firstProblem());
    }

    @Test
    void twoRowsSwappedAreReportedAsReordered() throws Exception {
        // Every column but the id swapped between seq 4 and 5: the chain in seq order holds, the order of ids not.
        long id4 = idOf(4);
        long id5 = idOf(5);
        sql("UPDATE access_log SET id = -1 WHERE id = " + id4);
        sql("UPDATE access_log SET id = " + id4 + " WHERE id = " + id5);
        sql("UPDATE access_log SET id = " + id5 + " WHERE id = -1");

        assertEquals("rows of node " + NODE + " were reordered: row id " + id4 + " (seq 5) is stored before row id "
                + id5 + " (seq 4) but follows it in the chain", firstProblem());
    }

    @Test
    void aHistoryRewrittenWithEveryHashRecomputedIsCaughtByTheSignedCheckpoint() throws Exception {
        // The attacker can write the database and compute SHA-256, but has no private key.
        sql("UPDATE access_log SET host = 'innocent.example' WHERE seq = 3");
        recomputeEveryChain();
        ChainVerifier.Result result = verify();

        assertEquals(ROWS, result.rowsChecked());
        assertTrue(result.problems().get(0).startsWith("the chain of node " + NODE + " was rewritten up to seq 5:"),
                result.problems().toString());
    }

    @Test
    void aForgedCheckpointIsReported() throws Exception {
        sql("UPDATE chain_checkpoint SET seq = 7");

        String problem = firstProblem();
        assertTrue(problem.startsWith("checkpoint id "), problem);
        assertTrue(problem.endsWith("has a bad signature: it was forged or altered"), problem);
    }

    /**
     * A fleet's shared database: a second node with its own key. Each signer's checkpoints are checked with that
     * signer's key; with one key for all, the other node's checkpoints fail; with no key for it, they are reported
     * as not checkable rather than passed.
     */
    @Test
    void aFleetsCheckpointsAreEachCheckedWithTheirSignersKey() throws Exception {
        Assumptions.assumeTrue(sharedByNodes(), "one node's database");
        String other = "node-d";
        CheckpointKey otherKey = CheckpointKey.loadOrCreate(Files.createDirectories(dir.resolve("d")));
        try (AccessLog log = AccessLog.open(config(), dir.resolve("journal-d"), other)) {
            log.signCheckpoints(new ChainCheckpoints(otherKey, other), other, 3600);
            for (int i = 1; i <= 3; i++) {
                log.writer().append(record("/d" + i, System.currentTimeMillis(), other));
            }
            assertTrue(log.writer().flush(WAIT_MS));
        }

        ChainVerifier.Result each;
        ChainVerifier.Result oneKey;
        ChainVerifier.Result missing;
        try (Connection c = connect()) {
            each = ChainVerifier.verify(c, Map.of(NODE, key.publicKey(), other, otherKey.publicKey())::get, null,
                    null, Map.of());
            oneKey = ChainVerifier.verify(c, key.publicKey(), null, null);
            missing = ChainVerifier.verify(c, Map.of(NODE, key.publicKey())::get, null, null, Map.of());
        }
        assertEquals(List.of(), each.problems());
        assertEquals(ROWS + 3, each.rowsChecked());
        assertEquals(3, each.checkpointsVerified(), "node-c's two and node-d's stop checkpoint");
        assertTrue(oneKey.problems().get(0).contains("signed by " + other + ", ")
                && oneKey.problems().get(0).endsWith("has a bad signature: it was forged or altered"),
                oneKey.problems().toString());
        assertEquals("checkpoints signed by " + other + " cannot be checked: no public key was given for that"
                + " signer", missing.problems().get(0));
    }

    @Test
    void theLogPassesAfterARetentionPurgeThanksToItsSignedAnchors() throws Exception {
        assertEquals(5, purge(true));

        ChainVerifier.Result result = verify();
        assertEquals(List.of(), result.problems());
        assertEquals(5, result.rowsChecked());
        assertEquals(4, result.checkpointsVerified(), "two before, and the anchors of seq 4 and 7");
    }

    @Test
    void aPurgeWithoutAnchorsWouldLookLikeADeletion() throws Exception {
        assertEquals(5, purge(false));

        assertEquals("rows of node " + NODE + " before seq 5 were deleted: the first row does not link to the start"
                + " of the chain or to a signed checkpoint", firstProblem());
    }

    @Test
    void aCheckpointDeletedFromTheMiddleOfItsSeriesIsReported() throws Exception {
        sql("DELETE FROM chain_checkpoint WHERE number = 1");

        assertEquals("checkpoints number 1 signed by " + NODE + " were deleted: the series goes on at 2",
                firstProblem());
    }

    @Test
    void theNewestRowsDeletedWithTheirCheckpointShowOnlyAgainstTheNumberNotedBefore() throws Exception {
        sql("DELETE FROM access_log WHERE seq > 5");
        sql("DELETE FROM chain_checkpoint WHERE number = 2");

        assertEquals(List.of(), verify().problems(), "the database alone cannot show a cut end");
        ChainVerifier.Result result;
        try (Connection c = connect()) {
            result = ChainVerifier.verify(c, key.publicKey(), null, null, Map.of(NODE, 2L));
        }
        assertEquals(List.of("checkpoints signed by " + NODE + " after number 1 were deleted: number 2 was expected"),
                result.problems());
    }

    @Test
    void theAdminEventTrailIsChainedAndAnEventAlteredIsReported() throws Exception {
        recordThreeAdminEvents();
        ChainVerifier.Result intact = verify();
        assertEquals(List.of(), intact.problems());
        assertEquals(3, intact.eventsChecked());
        assertEquals(5, intact.checkpointsVerified(), "the access log's two and one per event");

        sql("UPDATE admin_event SET result = 'OK', status = 201 WHERE seq = 2");

        assertEquals("admin_event: row id " + single("SELECT id FROM admin_event WHERE seq = 2") + " (node " + NODE
                + ", seq 2) was altered: its hash does not match its content", firstProblem());
    }

    @Test
    void theNewestAdminEventDeletedIsCaughtByItsCheckpoint() throws Exception {
        recordThreeAdminEvents();
        sql("DELETE FROM admin_event WHERE seq = 3");

        String problem = firstProblem();
        assertTrue(problem.startsWith("admin_event: rows of node " + NODE + " after seq 2 were deleted: checkpoint"),
                problem);
    }

    private void recordThreeAdminEvents() throws SQLException {
        try (AccessLog log = AccessLog.open(config(), dir.resolve("journal"), NODE)) {
            log.adminEvents().signCheckpointsWith(new ChainCheckpoints(key, NODE));
            log.adminEvents().record(new AdminEvent(null, java.time.Instant.now(), NODE, "admin", "127.0.0.1",
                    "listener.create", "lab", AdminEvent.OK, 201, null));
            log.adminEvents().record(new AdminEvent(null, java.time.Instant.now(), NODE, "auditor", "127.0.0.1",
                    "listener.stop", "lab", AdminEvent.REFUSED, 403, "the auditor may only read"));
            log.adminEvents().record(new AdminEvent(null, java.time.Instant.now(), NODE, "admin", "127.0.0.1",
                    "listener.delete", "lab", AdminEvent.OK, 204, null));
        }
    }

    private long purge(boolean anchors) throws SQLException {
        try (AccessLog log = AccessLog.open(config(), dir.resolve("journal"), NODE);
             RetentionPurger purger = RetentionPurger.start(log.dataSource(), 90,
                     RetentionPurger.Pacing.onlyWhenAsked(false), Clock.systemUTC(), () -> { })) {
            if (anchors) {
                purger.signAnchorsWith(new ChainCheckpoints(key, NODE));
            }
            return purger.purgeNow();
        }
    }

    private String firstProblem() throws SQLException {
        ChainVerifier.Result result = verify();
        assertTrue(!result.intact(), "a problem is found");
        return result.problems().get(0);
    }

    private ChainVerifier.Result verify() throws SQLException {
        try (Connection c = connect()) {
            return ChainVerifier.verify(c, key.publicKey(), null, null);
        }
    }

    private void recomputeEveryChain() throws SQLException {
        RowChain<AccessRecord> chain = RowChain.accessLog();
        try (Connection c = connect()) {
            List<long[]> ids = new ArrayList<>();
            List<byte[]> chains = new ArrayList<>();
            byte[] previous = RowChain.genesis();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, seq, "
                    + String.join(", ", AccessLogTable.CHAINED_COLUMNS.stream().map(col -> col.name()).toList())
                    + " FROM access_log ORDER BY seq")) {
                while (rs.next()) {
                    previous = chain.next(previous, rs);
                    ids.add(new long[] {rs.getLong("id")});
                    chains.add(previous);
                }
            }
            try (PreparedStatement update = c.prepareStatement("UPDATE access_log SET chain = ? WHERE id = ?")) {
                for (int i = 0; i < ids.size(); i++) {
                    update.setBytes(1, chains.get(i));
                    update.setLong(2, ids.get(i)[0]);
                    update.executeUpdate();
                }
            }
        }
    }

    private long idOf(long seq) throws SQLException {
        return single("SELECT id FROM access_log WHERE seq = " + seq);
    }

    private long single(String query) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            assertTrue(rs.next(), query);
            return rs.getLong(1);
        }
    }

    private void sql(String statement) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }

    static AccessRecord record(String path, long tsMs) {
        return record(path, tsMs, NODE);
    }

    static AccessRecord record(String path, long tsMs, String node) {
        return new AccessRecord(null, tsMs, 12L, node, "public", "127.0.0.1", 40_000,
                null, Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 512L, "192.0.2.1",
                null, Outcome.OK, null);
    }
}
