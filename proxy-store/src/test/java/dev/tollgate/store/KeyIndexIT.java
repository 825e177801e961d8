package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogKeyTable;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static java.util.stream.Collectors.toSet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host and client key index ({@link KeyIndexer}, access_log_key) against a plain scan of access_log, in
 * a real H2 file: rows already indexed, rows in the unindexed tail above the mark, paging across the mark,
 * restarts and stops that leave rows unindexed, and deletes for retention.
 */
class KeyIndexIT {

    private static final long NEVER_MS = 3_600_000;
    private static final long DEADLINE_MS = 30_000;
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    // Null among them: a row without a host or client has no key of that type and must never match.
    private static final String[] HOSTS = {"a.example", "b.example", "c.example", null, "a.example.org"};
    private static final String[] CLIENTS = {"10.0.0.1", "10.0.0.2", null, "2001:db8::1"};

    @TempDir
    Path dir;

    private AccessLog log;
    private int appended;

    @AfterEach
    void closeLog() {
        if (log != null) {
            log.close();
        }
    }

    @Test
    void hostAndClientQueriesMatchAPlainScanInTheTailAndOnceIndexed() throws SQLException {
        log = open(NEVER_MS);
        append(40);
        assertEveryKeyQueryMatchesAScan("all in the tail");

        assertEquals(40, log.keyIndexer().indexNow());
        assertEquals(40, mark());
        assertEveryKeyQueryMatchesAScan("all indexed");

        append(25);
        assertEveryKeyQueryMatchesAScan("indexed, then a tail");
        assertEquals(25, log.keyIndexer().indexNow());
        assertEquals(0, log.keyIndexer().indexNow(), "nothing left to index");
        assertEveryKeyQueryMatchesAScan("all indexed again");
        assertKeysAgreeWithTheMark();
    }

    @Test
    void otherFiltersStillApplyToRowsFoundThroughTheKeys() throws SQLException {
        log = open(NEVER_MS);
        append(30);
        log.keyIndexer().indexNow();
        append(30);

        assertQueryMatchesAScan(AccessQuery.all().withHost("a.example").withMethod("POST"),
                r -> "a.example".equals(r.host()) && "POST".equals(r.method()));
        assertQueryMatchesAScan(AccessQuery.all().withHost("b.example").withClient("10.0.0.2"),
                r -> "b.example".equals(r.host()) && "10.0.0.2".equals(r.clientAddr()));
        assertQueryMatchesAScan(AccessQuery.all().withClient("10.0.0.1").withStatusClass(4),
                r -> "10.0.0.1".equals(r.clientAddr()) && r.status() / 100 == 4);
        Instant since = T0.plusSeconds(20);
        Instant until = T0.plusSeconds(45);
        assertQueryMatchesAScan(AccessQuery.all().withHost("a.example").withSince(since).withUntil(until),
                r -> "a.example".equals(r.host()) && r.tsMs() >= since.toEpochMilli()
                        && r.tsMs() < until.toEpochMilli());
    }

    @Test
    void pagingAcrossTheMarkMissesAndRepeatsNothing() throws SQLException {
        log = open(NEVER_MS);
        append(53);
        log.keyIndexer().indexNow();
        append(47);

        for (int limit : new int[] {1, 2, 3, 7}) {
            for (String host : new String[] {"a.example", "c.example"}) {
                assertPagesMatchAScan(AccessQuery.all().withHost(host).withLimit(limit), r -> host.equals(r.host()));
            }
            assertPagesMatchAScan(AccessQuery.all().withClient("10.0.0.1").withLimit(limit),
                    r -> "10.0.0.1".equals(r.clientAddr()));
        }
        // A cursor exactly on the mark, and one just below it.
        assertQueryMatchesAScan(AccessQuery.all().withHost("a.example").withAfter(53), r -> "a.example".equals(r.host()));
        assertQueryMatchesAScan(AccessQuery.all().withHost("a.example").withAfter(52), r -> "a.example".equals(r.host()));
    }

    @Test
    void queriesWalkTheEpochsOfTheirIdsInOrderAcrossEmptyOnesAndIntoTheTail() throws SQLException {
        log = open(NEVER_MS);
        long perEpoch = AccessLogKeyTable.IDS_PER_EPOCH;
        // Rows at both ends of epochs 0, 1, 4 and 5 (2 and 3 empty), indexed; then more in epoch 7, unindexed.
        List<Long> ids = new ArrayList<>();
        for (long epoch : new long[] {0, 1, 4, 5}) {
            for (long within = 0; within < 6; within++) {
                ids.add(epoch * perEpoch + (within < 3 ? within + 1 : perEpoch - 6 + within));
            }
        }
        insertWithIds(ids);
        log.keyIndexer().indexNow();
        insertWithIds(List.of(7 * perEpoch + 1, 7 * perEpoch + 2, 7 * perEpoch + 3));
        assertEquals(5 * perEpoch + perEpoch - 1, mark());

        assertEveryKeyQueryMatchesAScan("keys in four epochs, a tail in an eighth");
        for (int limit : new int[] {1, 2, 5}) {
            assertPagesMatchAScan(AccessQuery.all().withHost("a.example").withLimit(limit),
                    r -> "a.example".equals(r.host()));
            assertPagesMatchAScan(AccessQuery.all().withClient("10.0.0.2").withLimit(limit),
                    r -> "10.0.0.2".equals(r.clientAddr()));
        }
        // Cursors inside an epoch, at its last id, and in an empty one.
        for (long after : new long[] {2, perEpoch - 1, perEpoch, 2 * perEpoch + 5, 5 * perEpoch + 2}) {
            assertQueryMatchesAScan(AccessQuery.all().withHost("b.example").withAfter(after),
                    r -> "b.example".equals(r.host()));
        }
        List<AccessRecord> streamed = new ArrayList<>();
        log.reader().streamAll(AccessQuery.all().withClient("10.0.0.1").withLimit(1), streamed::add);
        assertEquals(scan(r -> "10.0.0.1".equals(r.clientAddr())), streamed);
    }

    @Test
    void streamAllReadsTheIndexedRowsAndTheTail() throws SQLException {
        log = open(NEVER_MS);
        append(20);
        log.keyIndexer().indexNow();
        append(20);
        List<AccessRecord> got = new ArrayList<>();

        log.reader().streamAll(AccessQuery.all().withClient("10.0.0.2").withLimit(1), got::add);

        assertEquals(scan(r -> "10.0.0.2".equals(r.clientAddr())), got);
    }

    @Test
    void theBackgroundThreadIndexesNewRows() throws Exception {
        log = open(50);
        append(30);

        awaitMark(30);
        assertKeysAgreeWithTheMark();
        assertEveryKeyQueryMatchesAScan("indexed by the thread");
    }

    @Test
    void aRestartCatchesUpOnRowsLeftUnindexed() throws Exception {
        log = open(NEVER_MS);
        append(35);
        log.keyIndexer().indexNow();
        append(15);
        log.close();

        log = open(50);
        assertEveryKeyQueryMatchesAScan("after the restart, before the indexer ran");
        awaitMark(50);
        assertKeysAgreeWithTheMark();
        assertEveryKeyQueryMatchesAScan("after the restart, caught up");
    }

    @Test
    void aStopWithoutIndexingLeavesKeysAndMarkInAgreement() throws Exception {
        log = open(NEVER_MS);
        append(25);
        log.keyIndexer().indexNow();
        append(10);
        log.close();

        log = open(NEVER_MS);
        assertEquals(25, mark());
        assertKeysAgreeWithTheMark();
        assertEveryKeyQueryMatchesAScan("reopened with a tail");
        assertEquals(10, log.keyIndexer().indexNow());
        assertKeysAgreeWithTheMark();
        assertEveryKeyQueryMatchesAScan("reopened and indexed");
    }

    @Test
    void aCrashInTheMiddleOfARoundLosesTheWholeRound() throws Exception {
        log = open(NEVER_MS);
        append(20);
        log.keyIndexer().indexNow();
        append(10);
        // Half a round: keys inserted, mark not moved, nothing committed; then the database stops dead.
        try (Connection round = log.dataSource().getConnection(); Connection killer = log.dataSource().getConnection()) {
            round.setAutoCommit(false);
            try (Statement s = round.createStatement()) {
                s.executeUpdate("INSERT INTO access_log_key (k) SELECT id FROM access_log WHERE id > 20");
            }
            try (Statement s = killer.createStatement()) {
                s.execute("SHUTDOWN IMMEDIATELY");
            }
        } catch (SQLException expected) {
            // Closing connections of a database that is gone may fail; the file is what matters.
        }
        log.close();

        log = open(NEVER_MS);
        assertEquals(20, mark());
        assertKeysAgreeWithTheMark();
        assertEveryKeyQueryMatchesAScan("after the crash");
        assertEquals(10, log.keyIndexer().indexNow());
        assertKeysAgreeWithTheMark();
    }

    @Test
    void aRoundStoresOneEntryForEachValueItSaw() throws SQLException {
        log = open(NEVER_MS);
        append(60);

        assertEquals(60, log.keyIndexer().indexNow());

        long hosts = Arrays.stream(HOSTS).filter(Objects::nonNull).distinct().count();
        long clients = Arrays.stream(CLIENTS).filter(Objects::nonNull).distinct().count();
        assertEquals(hosts + clients, entries(), "one entry per host and per client: all 60 rows are in epoch 0");
        assertKeysAgreeWithTheMark();
        append(3);
        assertEquals(3, log.keyIndexer().indexNow());
        assertEquals(hosts + clients + 5, entries(), "the next round's values get entries of their own");
        assertKeysAgreeWithTheMark();
        assertEveryKeyQueryMatchesAScan("two rounds");
    }

    @Test
    void deleteKeysBelowRemovesTheEntriesWhoseRowsAreAllOlder() throws SQLException {
        log = open(NEVER_MS);
        append(30);
        log.keyIndexer().indexNow();
        long firstRound = entries();
        append(30);
        log.keyIndexer().indexNow();
        Set<Long> before = keys();

        // Rows 1-30 are one round's entries, all below 37; rows 31-60 the next round's, which 37 cuts through.
        long deleted = log.keyIndexer().deleteKeysBelow(37);

        Set<Long> expected = new TreeSet<>();
        for (long k : before) {
            if (AccessLogKeyTable.idOf(k) > 30) {
                expected.add(k);
            }
        }
        assertEquals(expected, keys(), "the second round's keys, those of its rows 31-36 too");
        assertEquals(firstRound, deleted);
        assertEquals(0, log.keyIndexer().deleteKeysBelow(37), "nothing left wholly below 37");
    }

    @Test
    void deleteKeysBelowReachesTheKeysAtBothEndsOfTheKeySpace() throws SQLException {
        log = open(NEVER_MS);
        append(1);
        // The writer takes ids from the identity column; the highest id a key holds is set here by hand.
        try (Connection c = log.dataSource().getConnection();
             Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO access_log (id, ts, node, listener, client_addr, kind, host, outcome)"
                    + " SELECT " + AccessLogKeyTable.MAX_ID + ", ts, node, listener, client_addr, kind, host, outcome"
                    + " FROM access_log WHERE id = 1");
        }
        log.keyIndexer().indexNow();
        assertEquals(4, keys().size());

        assertEquals(2, log.keyIndexer().deleteKeysBelow(AccessLogKeyTable.MAX_ID), "the first row's keys");
        assertEquals(2, log.keyIndexer().deleteKeysBelow(Long.MAX_VALUE), "the last row's keys");
        assertEquals(Set.of(), keys());
    }

    @Test
    void deleteKeysBelowTakesWholeEpochsThenPartOfTheLast() throws SQLException {
        log = open(NEVER_MS);
        long perEpoch = AccessLogKeyTable.IDS_PER_EPOCH;
        try (Connection c = log.dataSource().getConnection();
             Statement s = c.createStatement()) {
            for (long id : new long[] {5, perEpoch + 3, 6 * perEpoch - 1, 9 * perEpoch + 7, 9 * perEpoch + 8}) {
                s.executeUpdate("INSERT INTO access_log (id, ts, node, listener, client_addr, kind, host, outcome)"
                        + " VALUES (" + id + ", CURRENT_TIMESTAMP, 'node', 'public', '10.0.0." + (id % 7)
                        + "', 'FORWARD', 'h" + (id % 5) + ".example', 'OK')");
            }
        }
        log.keyIndexer().indexNow();
        assertEquals(10, keys().size());

        assertEquals(8, log.keyIndexer().deleteKeysBelow(9 * perEpoch + 8));

        assertEquals(Set.of(9 * perEpoch + 8), keys().stream().map(AccessLogKeyTable::idOf).collect(toSet()));
        assertEquals(2, keys().size());
    }

    @Test
    void theThreadSkipsItsRoundsWhileTheWriterIsBehindAndIndexesOnceItCatchesUp() throws Exception {
        log = open(NEVER_MS);
        append(10);
        AtomicBoolean writerBehind = new AtomicBoolean(true);
        try (KeyIndexer indexer = KeyIndexer.start(new KeyIndexer("test", log.dataSource(), 10, 1_000,
                writerBehind::get, Integer.MAX_VALUE))) {
            awaitTrue(() -> indexer.deferredRounds() >= 3, "the indexer deferring its rounds");
            assertEquals(0, mark(), "no round while the writer is behind");

            writerBehind.set(false);
            awaitMark(10);
        }
        assertKeysAgreeWithTheMark();
    }

    @Test
    void aWriterThatStaysBehindStillLetsARoundThroughAfterTheMostDeferredRounds() throws Exception {
        log = open(NEVER_MS);
        append(10);
        try (KeyIndexer indexer = KeyIndexer.start(new KeyIndexer("test", log.dataSource(), 10, 1_000,
                () -> true, 3))) {
            awaitMark(10);
            assertTrue(indexer.deferredRounds() >= 3, "deferred " + indexer.deferredRounds() + " rounds first");
        }
        assertKeysAgreeWithTheMark();
    }

    // --- helpers ---

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + DEADLINE_MS * 1_000_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " did not happen in time");
            Thread.onSpinWait();
        }
    }

    private AccessLog open(long intervalMs) throws SQLException {
        return AccessLog.open(new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, 500, 60_000,
                null), AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS, intervalMs);
    }

    /** Appends {@code n} more rows, each host, client and method recurring, and waits until they are stored. */
    private void append(int n) {
        for (int i = 0; i < n; i++, appended++) {
            int k = appended;
            log.writer().append(new AccessRecord(null, T0.plusSeconds(k).toEpochMilli(), 1L, "node", "public",
                    CLIENTS[k % CLIENTS.length], 40_000 + k, null, Kind.FORWARD, "HTTP/1.1",
                    k % 3 == 0 ? "POST" : "GET", HOSTS[k % HOSTS.length], 80, "/" + k, k % 7 == 0 ? 404 : 200,
                    1L, 2L, null, null, Outcome.OK, null));
        }
        assertTrue(log.writer().flush(DEADLINE_MS));
    }

    /** Rows with the given ids, hosts and clients taken in turn from HOSTS and CLIENTS, as the writer would not. */
    private void insertWithIds(List<Long> ids) throws SQLException {
        try (Connection c = log.dataSource().getConnection();
             PreparedStatement insert = c.prepareStatement("INSERT INTO access_log"
                     + " (id, ts, node, listener, client_addr, kind, host, status, outcome)"
                     + " VALUES (?, ?, 'node', 'public', ?, 'FORWARD', ?, 200, 'OK')")) {
            for (long id : ids) {
                insert.setLong(1, id);
                insert.setObject(2, OffsetDateTime.ofInstant(T0.plusSeconds(id), ZoneOffset.UTC));
                insert.setString(3, CLIENTS[appended % CLIENTS.length]);
                insert.setString(4, HOSTS[appended % HOSTS.length]);
                insert.executeUpdate();
                appended++;
            }
        }
    }

    private void assertEveryKeyQueryMatchesAScan(String when) throws SQLException {
        for (String host : HOSTS) {
            if (host != null) {
                assertQueryMatchesAScan(AccessQuery.all().withHost(host), r -> host.equals(r.host()));
            }
        }
        for (String client : CLIENTS) {
            if (client != null) {
                assertQueryMatchesAScan(AccessQuery.all().withClient(client), r -> client.equals(r.clientAddr()));
            }
        }
        assertQueryMatchesAScan(AccessQuery.all().withHost("nowhere.example"), r -> false);
        assertTrue(log.reader().readAfter(0, 1).size() == 1, when);
    }

    private void assertQueryMatchesAScan(AccessQuery q, Predicate<AccessRecord> expected) throws SQLException {
        List<AccessRecord> want = scan(r -> r.id() > q.after() && expected.test(r));
        assertEquals(want, log.reader().page(q.withLimit(AccessQuery.MAX_LIMIT)), q.toString());
    }

    private void assertPagesMatchAScan(AccessQuery first, Predicate<AccessRecord> expected) throws SQLException {
        List<AccessRecord> got = new ArrayList<>();
        AccessQuery q = first;
        while (true) {
            List<AccessRecord> page = new ArrayList<>();
            StreamedRows streamed = log.reader().query(q, page::add);
            assertTrue(page.size() <= first.limit());
            got.addAll(page);
            if (streamed.count() < first.limit()) {
                break;
            }
            q = q.withAfter(streamed.lastId());
        }
        assertEquals(scan(expected), got, first.toString());
    }

    /** What a plain read of the whole table in id order, filtered here, returns. */
    private List<AccessRecord> scan(Predicate<AccessRecord> expected) throws SQLException {
        return log.reader().readAfter(0, AccessLogReader.MAX_LIMIT).stream().filter(expected).toList();
    }

    /** access_log_key holds exactly the keys of the rows up to the mark, and nothing above it. */
    private void assertKeysAgreeWithTheMark() throws SQLException {
        long mark = mark();
        Set<Long> expected = new TreeSet<>();
        for (AccessRecord r : scan(r -> r.id() <= mark)) {
            if (r.host() != null) {
                expected.add(AccessLogKeyTable.key(AccessLogKeyTable.HOST, r.host(), r.id()));
            }
            if (r.clientAddr() != null) {
                expected.add(AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, r.clientAddr(), r.id()));
            }
        }
        assertEquals(expected, keys(), "keys up to mark " + mark);
    }

    private void awaitMark(long id) throws Exception {
        long deadline = System.nanoTime() + DEADLINE_MS * 1_000_000;
        while (mark() < id) {
            assertTrue(System.nanoTime() < deadline, "the indexer did not reach id " + id + " in time");
            Thread.onSpinWait();
        }
    }

    private long mark() throws SQLException {
        return Long.parseLong(Objects.requireNonNull(strings("SELECT id FROM access_log_key_mark")).get(0));
    }

    /** The key of every row that access_log_key's entries hold. */
    private Set<Long> keys() throws SQLException {
        Set<Long> keys = new TreeSet<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT k, ids FROM access_log_key")) {
            while (rs.next()) {
                long k = rs.getLong(1);
                for (long id : AccessLogKeyTable.idsOf(k, rs.getBytes(2))) {
                    keys.add(k - AccessLogKeyTable.idOf(k) + id);
                }
            }
        }
        return keys;
    }

    private long entries() throws SQLException {
        return Long.parseLong(strings("SELECT COUNT(*) FROM access_log_key").get(0));
    }

    private List<String> strings(String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
