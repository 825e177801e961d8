package dev.tollgate.store;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link AccessQuery} filter against a known set of rows in a real H2 file. Each test states which
 * seeded rows a query must return as a plain Java predicate over them, and checks that the store returns
 * exactly those, in id order. {@link PgAccessQueryIT} runs the same tests on PostgreSQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessQueryIT {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration STEP = Duration.ofMinutes(10);
    private static final int ROWS = 42;
    private static final long NEVER_MS = 3_600_000;
    private static final String[] HOSTS = {"example.com", "a.example.com", "b.c.example.com", "badexample.com",
            "example.org", "a_b.example.net"};
    private static final String[] CLIENTS = {"10.0.0.1", "10.0.0.10", "2001:db8::1", "192.168.1.5"};
    private static final String[] METHODS = {"GET", "POST", "CONNECT"};
    private static final int[] STATUSES = {200, 204, 301, 404, 403, 502, 101};

    @TempDir
    static Path dir;

    private AccessLog log;
    private List<AccessRecord> seeded;

    @BeforeAll
    void seed() throws SQLException {
        // The key indexer runs only when told: the first half of the rows is indexed, the rest stays in the
        // unindexed tail, so every host and client query below reads across the mark.
        log = open(dir);
        for (int i = 0; i < ROWS / 2; i++) {
            log.writer().append(row(i));
        }
        assertTrue(log.writer().flush(30_000));
        if (log.keyIndexer().isActive()) {
            assertEquals(ROWS / 2, log.keyIndexer().indexNow());
        }
        for (int i = ROWS / 2; i < ROWS; i++) {
            log.writer().append(row(i));
        }
        // A refused request that never got as far as a host or a method: every filter but time leaves it out.
        log.writer().append(new AccessRecord(null, T0.plus(STEP.multipliedBy(ROWS)).toEpochMilli(), 0L, "node",
                "public", null, 0, null, Kind.FORWARD, null, null, null, 0, "/" + ROWS, 400, 0L, 0L, null, null,
                Outcome.BAD_REQUEST, "request line unparseable"));
        assertTrue(log.writer().flush(30_000));
        seeded = log.reader().readAfter(0, 10_000);
        assertEquals(ROWS + 1, seeded.size());
    }

    @AfterAll
    void close() throws SQLException {
        log.close();
    }

    /** The access log under test, empty, with a writer that writes only when flushed and no automatic indexing. */
    AccessLog open(Path dir) throws SQLException {
        return AccessLog.open(new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, 500, 60_000, null),
                AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS, NEVER_MS);
    }

    /** Where a live tail starts when its client names no cursor. */
    @Test
    void lastIdIsTheNewestRowsId() throws SQLException {
        assertEquals(seeded.get(seeded.size() - 1).id(), log.reader().lastId());
    }

    @Test
    void lastIdOfAnEmptyLogIsZero(@TempDir Path empty) throws SQLException {
        try (AccessLog none = AccessLog.open(new StoreConfig("jdbc:h2:file:" + empty.resolve("access"), null, null,
                500, 60_000, null), AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS, NEVER_MS)) {
            assertEquals(0, none.reader().lastId());
        }
    }

    @Test
    void allReturnsEveryRowInIdOrder() throws SQLException {
        assertMatches(AccessQuery.all(), r -> true);
    }

    @Test
    void sinceIsInclusive() throws SQLException {
        Instant since = T0.plus(STEP.multipliedBy(10));

        assertSelects(AccessQuery.all().withSince(since), r -> r.tsMs() >= since.toEpochMilli());
        assertEquals("/10", log.reader().page(AccessQuery.all().withSince(since)).get(0).path());
    }

    @Test
    void untilIsExclusive() throws SQLException {
        Instant until = T0.plus(STEP.multipliedBy(20));

        assertSelects(AccessQuery.all().withUntil(until), r -> r.tsMs() < until.toEpochMilli());
        List<AccessRecord> page = log.reader().page(AccessQuery.all().withUntil(until));
        assertEquals("/19", page.get(page.size() - 1).path());
    }

    @Test
    void sinceAndUntilTogetherKeepTheRangeBetween() throws SQLException {
        Instant since = T0.plus(STEP.multipliedBy(10));
        Instant until = T0.plus(STEP.multipliedBy(20));

        assertSelects(AccessQuery.all().withSince(since).withUntil(until),
                r -> r.tsMs() >= since.toEpochMilli() && r.tsMs() < until.toEpochMilli());
    }

    @Test
    void aTimeRangeWithNoRowsInItReturnsNoneAndKeepsTheCursor() throws SQLException {
        AccessQuery q = AccessQuery.all().withSince(T0.minusSeconds(7200)).withUntil(T0).withAfter(3);

        StreamedRows streamed = log.reader().query(q, r -> {
            throw new AssertionError("no row expected: " + r);
        });

        assertEquals(new StreamedRows(0, 3), streamed);
    }

    @Test
    void anExactHostMatchesOnlyThatHost() throws SQLException {
        assertSelects(AccessQuery.all().withHost("example.com"), r -> "example.com".equals(r.host()));
        assertSelects(AccessQuery.all().withHost("a.example.com"), r -> "a.example.com".equals(r.host()));
    }

    @Test
    void aStarDotHostMatchesSubdomainsAtAnyDepthButNotTheDomainOrALookalike() throws SQLException {
        List<String> hosts = hostsOf(log.reader().page(AccessQuery.all().withHost("*.example.com").withLimit(10_000)));

        assertEquals(List.of("a.example.com", "b.c.example.com"), hosts.stream().distinct().sorted().toList());
        assertSelects(AccessQuery.all().withHost("*.example.com"),
                r -> "a.example.com".equals(r.host()) || "b.c.example.com".equals(r.host()));
        assertSelects(AccessQuery.all().withHost("*.c.example.com"), r -> "b.c.example.com".equals(r.host()));
    }

    @Test
    void likeWildcardsInAHostPatternMatchOnlyThemselves() throws SQLException {
        assertMatches(AccessQuery.all().withHost("*.example_com"), r -> false);
        assertMatches(AccessQuery.all().withHost("*.%"), r -> false);
        assertMatches(AccessQuery.all().withHost("*.b.example.net"), r -> false);
        assertMatches(AccessQuery.all().withHost("%"), r -> false);
        assertSelects(AccessQuery.all().withHost("a_b.example.net"), r -> "a_b.example.net".equals(r.host()));
    }

    @Test
    void aClientMatchesExactlyNotByPrefix() throws SQLException {
        assertSelects(AccessQuery.all().withClient("10.0.0.1"), r -> "10.0.0.1".equals(r.clientAddr()));
        assertSelects(AccessQuery.all().withClient("2001:db8::1"), r -> "2001:db8::1".equals(r.clientAddr()));
    }

    @Test
    void aMethodMatchesExactly() throws SQLException {
        assertSelects(AccessQuery.all().withMethod("CONNECT"), r -> "CONNECT".equals(r.method()));
        assertMatches(AccessQuery.all().withMethod("get"), r -> false);
    }

    @Test
    void aStatusCodeMatchesExactly() throws SQLException {
        assertSelects(AccessQuery.all().withStatusCode(404), r -> r.status() == 404);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void aStatusClassMatchesItsHundred(int statusClass) throws SQLException {
        assertSelects(AccessQuery.all().withStatusClass(statusClass), r -> r.status() / 100 == statusClass);
    }

    @Test
    void aListenerMatchesExactly() throws SQLException {
        assertSelects(AccessQuery.all().withListener("internal"), r -> "internal".equals(r.listener()));
    }

    @Test
    void aUsernameMatchesExactlyAndNeverARowWithoutOne() throws SQLException {
        assertSelects(AccessQuery.all().withUsername("alice"), r -> "alice".equals(r.username()));
    }

    @Test
    void anOutcomeMatchesExactly() throws SQLException {
        assertSelects(AccessQuery.all().withOutcome(Outcome.DENIED), r -> r.outcome() == Outcome.DENIED);
        assertMatches(AccessQuery.all().withOutcome(Outcome.LOOP), r -> false);
    }

    @Test
    void aKindMatchesExactly() throws SQLException {
        assertSelects(AccessQuery.all().withKind(Kind.INTERCEPT), r -> r.kind() == Kind.INTERCEPT);
    }

    @Test
    void aNodeMatchesExactly() throws SQLException {
        assertSelects(AccessQuery.all().withNode("node-b"), r -> r.node().equals("node-b"));
        assertSelects(AccessQuery.all().withNode("node-a").withHost("example.com"),
                r -> r.node().equals("node-a") && "example.com".equals(r.host()));
        assertMatches(AccessQuery.all().withNode("node-c"), r -> false);
    }

    @Test
    void filtersCombineWithAnd() throws SQLException {
        Instant since = T0.plus(STEP.multipliedBy(5));
        Instant until = T0.plus(STEP.multipliedBy(35));
        AccessQuery q = AccessQuery.all().withSince(since).withUntil(until).withHost("*.example.com")
                .withMethod("POST").withStatusClass(2).withListener("public").withKind(Kind.FORWARD);

        assertSelects(q, r -> r.tsMs() >= since.toEpochMilli() && r.tsMs() < until.toEpochMilli()
                && r.host() != null && r.host().endsWith(".example.com") && "POST".equals(r.method())
                && r.status() / 100 == 2 && "public".equals(r.listener()) && r.kind() == Kind.FORWARD);
        assertSelects(AccessQuery.all().withClient("10.0.0.1").withUsername("alice").withOutcome(Outcome.OK),
                r -> "10.0.0.1".equals(r.clientAddr()) && "alice".equals(r.username()) && r.outcome() == Outcome.OK);
    }

    @Test
    void pagingByTheCursorReturnsEveryRowOnceAcrossPages() throws SQLException {
        assertPagesCoverExactly(AccessQuery.all().withLimit(4), r -> true);
        assertPagesCoverExactly(AccessQuery.all().withKind(Kind.FORWARD).withLimit(3), r -> r.kind() == Kind.FORWARD);
        // Host and client pages run through the key index up to the mark (mid-seed), then the tail.
        assertPagesCoverExactly(AccessQuery.all().withHost("example.com").withLimit(2),
                r -> "example.com".equals(r.host()));
        assertPagesCoverExactly(AccessQuery.all().withClient("10.0.0.1").withLimit(3),
                r -> "10.0.0.1".equals(r.clientAddr()));
        Instant since = T0.plus(STEP.multipliedBy(7));
        Instant until = T0.plus(STEP.multipliedBy(33));
        assertPagesCoverExactly(AccessQuery.all().withSince(since).withUntil(until).withLimit(5),
                r -> r.tsMs() >= since.toEpochMilli() && r.tsMs() < until.toEpochMilli());
    }

    @Test
    void queryReportsTheCountAndTheLastIdAsTheNextCursor() throws SQLException {
        List<AccessRecord> sunk = new ArrayList<>();

        StreamedRows streamed = log.reader().query(AccessQuery.all().withLimit(5), sunk::add);

        assertEquals(5, streamed.count());
        assertEquals(seeded.get(4).id(), streamed.lastId());
        assertEquals(seeded.subList(0, 5), sunk);
    }

    @Test
    void aCursorPastTheLastRowReturnsNothingAndKeepsTheCursor() throws SQLException {
        long last = seeded.get(seeded.size() - 1).id();

        StreamedRows streamed = log.reader().query(AccessQuery.all().withAfter(last), r -> {
            throw new AssertionError("no row expected: " + r);
        });

        assertEquals(new StreamedRows(0, last), streamed);
    }

    @Test
    void streamAllIgnoresTheLimitButKeepsTheCursorAndFilters() throws SQLException {
        List<AccessRecord> sunk = new ArrayList<>();
        long after = seeded.get(9).id();

        StreamedRows streamed = log.reader().streamAll(
                AccessQuery.all().withStatusClass(2).withAfter(after).withLimit(1), sunk::add);

        List<AccessRecord> expected = seeded.stream().filter(r -> r.id() > after && r.status() / 100 == 2).toList();
        assertTrue(expected.size() > 1);
        assertEquals(expected, sunk);
        assertEquals(new StreamedRows(expected.size(), expected.get(expected.size() - 1).id()), streamed);
    }

    @Test
    void anExceptionFromTheSinkEndsTheReadAndTheNextQueryWorks() throws SQLException {
        IllegalStateException stop = new IllegalStateException("client went away");

        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> log.reader().streamAll(AccessQuery.all(), r -> {
                    throw stop;
                }));

        assertSame(stop, thrown);
        assertEquals(ROWS + 1, log.reader().page(AccessQuery.all()).size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"' OR '1'='1", "x'; DROP TABLE access_log; --", "\" OR \"\"=\"", "1 OR 1=1",
            "example.com' --", "*.example.com' OR host LIKE '%", "'); DELETE FROM access_log; --"})
    void sqlInFilterValuesIsJustAValueThatMatchesNoRow(String attack) throws SQLException {
        assertMatches(AccessQuery.all().withHost(attack), r -> false);
        assertMatches(AccessQuery.all().withClient(attack), r -> false);
        assertMatches(AccessQuery.all().withMethod(attack), r -> false);
        assertMatches(AccessQuery.all().withListener(attack), r -> false);
        assertMatches(AccessQuery.all().withUsername(attack), r -> false);
        if (attack.indexOf('*') < 0) {
            assertMatches(AccessQuery.all().withHost("*." + attack), r -> false);
        }

        assertEquals(seeded, log.reader().readAfter(0, 10_000), "every row still there");
    }

    // --- helpers ---

    /**
     * The i-th seeded row. The attributes cycle with different periods, so that every filter value occurs
     * several times and in many combinations with the others.
     */
    private static AccessRecord row(int i) {
        String method = METHODS[i % METHODS.length];
        int status = STATUSES[i % STATUSES.length];
        Outcome outcome = switch (status) {
            case 403 -> Outcome.DENIED;
            case 502 -> Outcome.UPSTREAM_UNREACHABLE;
            default -> Outcome.OK;
        };
        Kind kind = "CONNECT".equals(method) ? Kind.TUNNEL : i % 4 == 0 ? Kind.INTERCEPT : Kind.FORWARD;
        String username = switch (i % 5) {
            case 0 -> "alice";
            case 1 -> "bob";
            default -> null;
        };
        // Two nodes sharing the log, as a fleet on PostgreSQL does; i % 3 so that nodes cut across listeners.
        String node = i % 3 == 0 ? "node-a" : "node-b";
        return new AccessRecord(null, T0.plus(STEP.multipliedBy(i)).toEpochMilli(), 5L, node,
                i % 2 == 0 ? "internal" : "public", CLIENTS[i % CLIENTS.length], 40_000 + i, username, kind,
                "HTTP/1.1", method, HOSTS[i % HOSTS.length], 443, "/" + i, status, 10L, 20L, null, null, outcome,
                outcome == Outcome.OK ? null : "because");
    }

    /** The query returns exactly the seeded rows {@code expected} accepts, in id order, in one page. */
    private void assertMatches(AccessQuery q, Predicate<AccessRecord> expected) throws SQLException {
        List<AccessRecord> want = seeded.stream().filter(expected).toList();
        List<AccessRecord> got = log.reader().page(q.withLimit(AccessQuery.MAX_LIMIT));
        assertEquals(paths(want), paths(got), q.toString());
        assertEquals(want, got, q.toString());
    }

    /** As {@link #assertMatches}, for a filter that the seeded rows make meaningful: it keeps some, not all. */
    private void assertSelects(AccessQuery q, Predicate<AccessRecord> expected) throws SQLException {
        long kept = seeded.stream().filter(expected).count();
        assertTrue(kept > 0 && kept < seeded.size(), "the seed leaves " + q + " keeping " + kept + " rows");
        assertMatches(q, expected);
    }

    /** Following the cursor page by page yields each row {@code expected} accepts once, in id order. */
    private void assertPagesCoverExactly(AccessQuery first, Predicate<AccessRecord> expected)
            throws SQLException {
        List<AccessRecord> want = seeded.stream().filter(expected).toList();
        assertTrue(want.size() > 2 * first.limit(), "the test needs at least three pages");
        List<AccessRecord> got = new ArrayList<>();
        AccessQuery q = first;
        int pages = 0;
        while (true) {
            List<AccessRecord> page = new ArrayList<>();
            StreamedRows streamed = log.reader().query(q, page::add);
            pages++;
            assertTrue(page.size() <= first.limit());
            got.addAll(page);
            if (streamed.count() < first.limit()) {
                break;
            }
            q = q.withAfter(streamed.lastId());
        }
        assertEquals(paths(want), paths(got));
        assertEquals(want.size() / first.limit() + 1, pages);
        assertFalse(got.isEmpty());
    }

    private static List<String> paths(List<AccessRecord> rows) {
        return rows.stream().map(AccessRecord::path).toList();
    }

    private static List<String> hostsOf(List<AccessRecord> rows) {
        return rows.stream().map(AccessRecord::host).toList();
    }
}
