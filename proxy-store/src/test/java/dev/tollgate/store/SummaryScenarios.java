package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogInserter;
import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.RowChain;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.sql.DataSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The roll-up tables' one promise, on each database (H2 in AccessSummaryIT, PostgreSQL in PgAccessSummaryIT): after
 * every commit they hold exactly what a GROUP BY over access_log would give, whether the rows came through the
 * writer, a journal replay, a retried batch or the migration's backfill, and after retention deleted some. The
 * expected sums are computed here, in Java, from the rows read back, not by the production SQL or
 * {@code SummaryDelta}, so that a mistake in those cannot hide in its own expectation.
 */
public abstract class SummaryScenarios {

    protected static final String NODE = "node-s";
    protected static final Instant BASE = Instant.parse("2026-06-01T00:00:00Z");
    private static final long WAIT_MS = 30_000;
    private static final Outcome[] OUTCOMES = {Outcome.OK, Outcome.OK, Outcome.OK, Outcome.DENIED,
        Outcome.AUTH_REQUIRED, Outcome.UPSTREAM_TIMEOUT, Outcome.CLIENT_ABORT};
    private static final int[] STATUSES = {200, 200, 204, 301, 404, 500, 101, 0, 403, 407, 504};

    @TempDir
    protected Path dir;

    /** The database under test, with the writer's default settings but a batch of 500. */
    protected abstract StoreConfig config();

    protected Path journalDir() {
        return dir.resolve("journal");
    }

    @Test
    void rollUpsOfASeededLogStoredByTheWriterEqualAGroupByOverIt() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            Random random = new Random(25);
            for (int i = 0; i < 3_000; i++) {
                log.writer().append(randomRecord(random, BASE, Duration.ofDays(3)));
            }
            assertTrue(log.writer().flush(WAIT_MS));

            assertEquals(3_000, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void recordsStoredBeforeACrashAndReplayedAfterItAreCountedOnce() throws Exception {
        Random random = new Random(7);
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            for (int i = 0; i < 200; i++) {
                log.writer().append(randomRecord(random, BASE, Duration.ofHours(3)));
            }
            assertTrue(log.writer().flush(WAIT_MS));
            // In the journal only, as when the process dies before the writer stores them.
            for (int i = 0; i < 50; i++) {
                log.writer().journal().append(randomRecord(random, BASE, Duration.ofHours(3)));
            }
        }

        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            assertEquals(250, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void aBatchWhoseCommitTookEffectButReportedAFailureIsCountedOnceByItsRetry() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            Random random = new Random(11);
            List<JournaledRecord> pending = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                pending.add(new JournaledRecord(1_000 + i, randomRecord(random, BASE, Duration.ofHours(2))));
            }
            CommitThatFails dataSource = new CommitThatFails(log.dataSource());
            AccessLogInserter inserter = new AccessLogInserter(dataSource, vendor(), seq -> { });
            try {
                inserter.insert(new ArrayList<>(pending.subList(0, 10)));
                List<JournaledRecord> retried = new ArrayList<>(pending.subList(10, 100));
                dataSource.failNextCommitAfterItTookEffect();
                assertThrows(SQLException.class, () -> inserter.insert(retried));
                inserter.insert(retried);
            } finally {
                inserter.close();
            }

            assertEquals(100, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void aPurgeLeavesRollUpsEqualToAGroupByOverTheRowsItKept() throws Exception {
        // Not on a minute's boundary: the minute of the cutoff loses some of its rows and keeps others.
        Instant now = Instant.parse("2026-07-01T12:00:30.500Z");
        int days = 30;
        Instant cutoff = now.minus(Duration.ofDays(days));
        // The key indexer only when asked: on H2 some rows the purge deletes are not ranked yet.
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE, AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS,
                3_600_000)) {
            Random random = new Random(3);
            for (int i = 0; i < 2_000; i++) {
                log.writer().append(randomRecord(random, cutoff.minus(Duration.ofHours(2)), Duration.ofHours(4)));
            }
            for (long offsetMs : new long[] {-1, 0, 1, -30_000, 29_000}) {
                log.writer().append(randomRecord(random, cutoff.plusMillis(offsetMs), Duration.ofMillis(1)));
            }
            assertTrue(log.writer().flush(WAIT_MS));
            long before = assertRollUpsEqualTheLog(log);
            // Older than the cutoff, stored after the last index round.
            for (int i = 0; i < 300; i++) {
                log.writer().append(randomRecord(random, cutoff.minus(Duration.ofHours(1)), Duration.ofMinutes(30)));
            }
            assertTrue(log.writer().flush(WAIT_MS));
            before += 300;

            long deleted;
            try (RetentionPurger purger = RetentionPurger.start(log.dataSource(), days,
                    RetentionPurger.Pacing.onlyWhenAsked(false), Clock.fixed(now, ZoneOffset.UTC), () -> { })) {
                deleted = purger.purgeNow();
            }

            assertTrue(deleted > 0 && deleted < before, "deleted " + deleted + " of " + before);
            assertEquals(before - deleted, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void theMigrationFillsTheRollUpsFromALogStoredBeforeThem() throws Exception {
        StoreConfig config = config();
        DatabaseUrl.Vendor vendor = DatabaseUrl.vendorOf(config.url());
        String url = DatabaseUrl.withAuditSettings(config.url());
        Flyway.configure(SummaryScenarios.class.getClassLoader()).dataSource(url, config.user(), config.readPassword())
                .locations(AccessLog.migrationLocations(vendor)).target("10").load().migrate();
        try (Connection c = java.sql.DriverManager.getConnection(url, config.user(), config.readPassword())) {
            insertAroundTheWriter(c, vendor, 1_500, new Random(5));
        }

        try (AccessLog log = AccessLog.open(config)) {
            assertEquals(1_500, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void theMigrationSumsTheHourRanksOfAStoreAtV12IntoDayRanks() throws Exception {
        StoreConfig config = config();
        DatabaseUrl.Vendor vendor = DatabaseUrl.vendorOf(config.url());
        String url = DatabaseUrl.withAuditSettings(config.url());
        Flyway.configure(SummaryScenarios.class.getClassLoader()).dataSource(url, config.user(), config.readPassword())
                .locations(AccessLog.migrationLocations(vendor)).target("12").load().migrate();
        Map<String, List<Long>> expected = new TreeMap<>();
        try (Connection c = java.sql.DriverManager.getConnection(url, config.user(), config.readPassword());
             PreparedStatement insert = c.prepareStatement("INSERT INTO access_summary_key_hour (dim, bucket,"
                     + " key_value, requests, bytes_from_client, bytes_to_client) VALUES (?, ?, ?, ?, ?, ?)");
             PreparedStatement series = c.prepareStatement("INSERT INTO access_summary_hour (bucket, kind, outcome,"
                     + " status_class, requests, bytes_from_client, bytes_to_client) VALUES (?, 'FORWARD', 'OK', 2,"
                     + " 1, 0, 0)")) {
            // Hour ranks as V12 and the writer leave them: values seen in some hours of some days, 00:00 and 23:00
            // among them, a day with none between two that have some; and, as there, the hour series has a row for
            // every hour that has ranks (V14 takes its range of days from it). Its counts do not matter here.
            Random random = new Random(12);
            for (int hour = 0; hour < 24 * 5; hour++) {
                series.setObject(1, OffsetDateTime.ofInstant(BASE.plus(Duration.ofHours(hour)), ZoneOffset.UTC));
                series.executeUpdate();
            }
            for (String dim : new String[] {"H", "C", "U", "R"}) {
                for (int hour = 0; hour < 24 * 5; hour++) {
                    Instant bucket = BASE.plus(Duration.ofHours(hour));
                    for (int value = 0; value < 6; value++) {
                        if (hour / 24 == 2 || random.nextInt(3) == 0) {
                            continue;
                        }
                        long[] sums = {1 + random.nextInt(50), random.nextInt(10_000), random.nextInt(100_000)};
                        insert.setString(1, dim);
                        insert.setObject(2, OffsetDateTime.ofInstant(bucket, ZoneOffset.UTC));
                        insert.setString(3, dim + value);
                        for (int i = 0; i < 3; i++) {
                            insert.setLong(4 + i, sums[i]);
                        }
                        insert.executeUpdate();
                        count(expected, "day|" + dim + "|" + BASE.plus(Duration.ofDays(hour / 24)) + "|" + dim + value,
                                sums);
                    }
                }
            }
        }

        try (AccessLog log = AccessLog.open(config)) {
            Map<String, List<Long>> days = new TreeMap<>(rollUps(log.dataSource()));
            days.keySet().removeIf(key -> !key.startsWith("day|"));
            assertEquals(expected, days);
        }
    }

    @Test
    void theDayInProgressIsRankedByTheHourAloneAndDaysAreSealedByTheFirstRankingAfterTheyEnd() throws Exception {
        Instant today = Instant.now().truncatedTo(ChronoUnit.DAYS);
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            assertEquals(today, sealedUntil(log.dataSource()), "the migration sealed the days before today");
            Random random = new Random(53);
            for (int i = 0; i < 1_000; i++) {
                log.writer().append(randomRecord(random, today.minus(Duration.ofDays(3)), Duration.ofDays(4)));
            }
            store(log);
            assertTopsEqualAGroupByOverTheLog(log, today.minus(Duration.ofDays(3)), today.plus(Duration.ofDays(1)));

            // The mark as a store left it that saw no rows since two days ago: those days' day ranks not made yet.
            OffsetDateTime twoDaysAgo = OffsetDateTime.ofInstant(today.minus(Duration.ofDays(2)), ZoneOffset.UTC);
            try (Connection c = log.dataSource().getConnection();
                 PreparedStatement unmake = c.prepareStatement("DELETE FROM access_summary_key_day"
                         + " WHERE bucket >= ?");
                 PreparedStatement mark = c.prepareStatement("UPDATE access_summary_key_day_mark"
                         + " SET sealed_until = ?")) {
                unmake.setObject(1, twoDaysAgo);
                unmake.executeUpdate();
                mark.setObject(1, twoDaysAgo);
                mark.executeUpdate();
            }
            assertTopsEqualAGroupByOverTheLog(log, today.minus(Duration.ofDays(3)), today.plus(Duration.ofDays(1)));
            // Ranked after they ended: the first ranking seals them, with this row in both tables once.
            store(log, randomRecord(random, today.minus(Duration.ofDays(2)).plus(Duration.ofHours(1)),
                    Duration.ofMinutes(1)));

            assertEquals(today, sealedUntil(log.dataSource()));
            assertEquals(1_001, assertRollUpsEqualTheLog(log));
            assertTopsEqualAGroupByOverTheLog(log, today.minus(Duration.ofDays(3)), today.plus(Duration.ofDays(1)));
        }
    }

    @Test
    void aTopOverSeveralDaysWithPartDaysAtBothEndsEqualsAGroupByOverTheLog() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            Random random = new Random(31);
            for (int i = 0; i < 3_000; i++) {
                log.writer().append(randomRecord(random, BASE, Duration.ofDays(5)));
            }
            store(log);

            // Rounded to 01:00 on the first day and 23:00 on the fourth: 23 hours, three whole days, 23 hours.
            assertTopsEqualAGroupByOverTheLog(log, BASE.plus(Duration.ofMinutes(90)),
                    BASE.plus(Duration.ofDays(4)).plus(Duration.ofHours(22)).plusSeconds(1));
            // Whole days only, and no whole day at all.
            assertTopsEqualAGroupByOverTheLog(log, BASE.plus(Duration.ofDays(1)), BASE.plus(Duration.ofDays(3)));
            assertTopsEqualAGroupByOverTheLog(log, BASE.plus(Duration.ofHours(30)), BASE.plus(Duration.ofHours(50)));
        }
    }

    @Test
    void lateRowsStoredIntoAnOldDayAreCountedInItsTopN() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            Random random = new Random(41);
            for (int i = 0; i < 1_000; i++) {
                log.writer().append(randomRecord(random, BASE, Duration.ofDays(4)));
            }
            store(log);
            Instant since = BASE.plus(Duration.ofHours(3));
            Instant until = BASE.plus(Duration.ofDays(4));
            assertTopsEqualAGroupByOverTheLog(log, since, until);

            // Rows of the second day stored two days later, as a journal replay after a crash stores them.
            for (int i = 0; i < 500; i++) {
                log.writer().append(randomRecord(random, BASE.plus(Duration.ofDays(1)), Duration.ofDays(1)));
            }
            store(log);

            assertTopsEqualAGroupByOverTheLog(log, since, until);
            assertEquals(1_500, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void aTopAfterAPurgeThatCutADayInTwoEqualsAGroupByOverTheRowsKept() throws Exception {
        int days = 3;
        // 14:00 on the second day: the day keeps its afternoon, and its day ranks must lose its morning.
        Instant cutoff = BASE.plus(Duration.ofHours(24 + 14));
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE, AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS,
                3_600_000)) {
            Random random = new Random(43);
            for (int i = 0; i < 2_000; i++) {
                log.writer().append(randomRecord(random, BASE, Duration.ofDays(4)));
            }
            store(log);

            long deleted;
            try (RetentionPurger purger = RetentionPurger.start(log.dataSource(), days,
                    RetentionPurger.Pacing.onlyWhenAsked(false), Clock.fixed(cutoff.plus(Duration.ofDays(days)),
                            ZoneOffset.UTC), () -> { })) {
                deleted = purger.purgeNow();
            }

            assertTrue(deleted > 0 && deleted < 2_000, "deleted " + deleted);
            assertTopsEqualAGroupByOverTheLog(log, BASE, BASE.plus(Duration.ofDays(4)));
            assertEquals(2_000 - deleted, assertRollUpsEqualTheLog(log));
        }
    }

    @Test
    void aMinuteSeriesHasEveryMinuteOfTheRoundedRangeWithItsCountsByOutcome() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            store(log, record(BASE.plusSeconds(10), Outcome.OK, 200, "a.example", 100, 1_000),
                    record(BASE.plusSeconds(50), Outcome.DENIED, 403, "b.example", 0, 0),
                    record(BASE.plusSeconds(130), Outcome.OK, 0, "a.example", 5, 7));

            AccessSummary.Series series = log.summary().series(AccessSummary.Bucket.MINUTE,
                    AccessSummary.By.OUTCOME, BASE.plusSeconds(30), BASE.plusSeconds(150));

            assertEquals(BASE, series.since(), "since rounded down to its minute");
            assertEquals(BASE.plusSeconds(180), series.until(), "until rounded up to its minute");
            assertEquals(List.of(
                    new AccessSummary.Point(BASE, 2, 100, 1_000, Map.of("DENIED", 1L, "OK", 1L)),
                    new AccessSummary.Point(BASE.plusSeconds(60), 0, 0, 0, Map.of()),
                    new AccessSummary.Point(BASE.plusSeconds(120), 1, 5, 7, Map.of("OK", 1L))), series.points());
        }
    }

    @Test
    void aStatusSeriesCountsByStatusClassWithNoneForRowsWithoutAStatus() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            store(log, record(BASE, Outcome.OK, 204, "a.example", 1, 1),
                    record(BASE.plusSeconds(1), Outcome.DENIED, 403, "a.example", 1, 1),
                    record(BASE.plusSeconds(2), Outcome.CLIENT_ABORT, 0, "a.example", 1, 1),
                    record(BASE.plusSeconds(3_600 * 25), Outcome.OK, 502, "a.example", 1, 1));

            AccessSummary.Series days = log.summary().series(AccessSummary.Bucket.DAY, AccessSummary.By.STATUS,
                    BASE, BASE.plus(Duration.ofDays(2)));

            assertEquals(2, days.points().size());
            assertEquals(Map.of("2xx", 1L, "4xx", 1L, "none", 1L), days.points().get(0).counts());
            assertEquals(Map.of("5xx", 1L), days.points().get(1).counts());
        }
    }

    @Test
    void aSeriesOfMoreThanTheMostPointsIsRefusedNamingTheLimit() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> log.summary()
                    .series(AccessSummary.Bucket.MINUTE, AccessSummary.By.OUTCOME, BASE, BASE.plus(Duration.ofDays(8))));

            assertTrue(refused.getMessage().contains(String.valueOf(AccessSummary.MAX_POINTS)), refused::getMessage);
        }
    }

    @Test
    void topRanksHostsByRequestsOrByBytesOverTheRoundedHours() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            store(log, record(BASE, Outcome.OK, 200, "many.example", 1, 1),
                    record(BASE.plusSeconds(60), Outcome.OK, 200, "many.example", 1, 1),
                    record(BASE.plusSeconds(3_599), Outcome.OK, 200, "big.example", 10_000, 5),
                    // The hour after the range: not counted.
                    record(BASE.plusSeconds(3_600), Outcome.OK, 200, "big.example", 10_000, 5));

            AccessSummary.Top byRequests = log.summary().top(AccessSummary.Dimension.HOST,
                    AccessSummary.Metric.REQUESTS, BASE.plusSeconds(1_800), BASE.plusSeconds(1_801), 10);
            AccessSummary.Top byBytes = log.summary().top(AccessSummary.Dimension.HOST, AccessSummary.Metric.BYTES,
                    BASE, BASE.plusSeconds(3_600), 1);

            assertEquals(BASE, byRequests.since());
            assertEquals(BASE.plusSeconds(3_600), byRequests.until());
            assertEquals(List.of(new AccessSummary.Ranked("many.example", 2, 2, 2),
                    new AccessSummary.Ranked("big.example", 1, 10_000, 5)), byRequests.rows());
            assertEquals(List.of(new AccessSummary.Ranked("big.example", 1, 10_000, 5)), byBytes.rows());
        }
    }

    @Test
    void topReasonsRankOutcomeAndReasonOfTheRowsThatWereNotOk() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            store(log, record(BASE, Outcome.OK, 200, "a.example", 1, 1),
                    withReason(record(BASE, Outcome.DENIED, 403, "a.example", 0, 0), "destination not allowed"),
                    withReason(record(BASE, Outcome.DENIED, 403, "b.example", 0, 0), "destination not allowed"),
                    record(BASE, Outcome.CLIENT_ABORT, 0, "a.example", 0, 0));

            AccessSummary.Top top = log.summary().top(AccessSummary.Dimension.REASON, AccessSummary.Metric.REQUESTS,
                    BASE, BASE.plusSeconds(1), 10);

            assertEquals(List.of(new AccessSummary.Ranked("DENIED: destination not allowed", 2, 0, 0),
                    new AccessSummary.Ranked("CLIENT_ABORT", 1, 0, 0)), top.rows());
            assertEquals(new AccessSummary.Point(BASE, 4, 1, 1, Map.of("OK", 1L, "DENIED", 2L, "CLIENT_ABORT", 1L)),
                    log.summary().totals(BASE, BASE.plusSeconds(1)));
        }
    }

    /**
     * Asserts that the top-N of each dimension over {@code since} to {@code until}, by requests and with room for
     * every value, is exactly a GROUP BY over access_log's rows in that range rounded outwards to whole hours.
     */
    private static void assertTopsEqualAGroupByOverTheLog(AccessLog log, Instant since, Instant until)
            throws SQLException {
        Instant from = Instant.ofEpochMilli(since.toEpochMilli() - Math.floorMod(since.toEpochMilli(), 3_600_000L));
        Instant to = Instant.ofEpochMilli(-Math.floorDiv(-until.toEpochMilli(), 3_600_000L) * 3_600_000L);
        Map<AccessSummary.Dimension, String> keys = Map.of(AccessSummary.Dimension.HOST, "host",
                AccessSummary.Dimension.CLIENT, "client_addr", AccessSummary.Dimension.USER, "username",
                AccessSummary.Dimension.REASON,
                "CASE WHEN reason IS NULL THEN outcome ELSE outcome || ': ' || reason END");
        for (Map.Entry<AccessSummary.Dimension, String> dim : keys.entrySet()) {
            List<AccessSummary.Ranked> expected = new ArrayList<>();
            String sql = "SELECT " + dim.getValue() + ", COUNT(*), SUM(bytes_from_client), SUM(bytes_to_client)"
                    + " FROM access_log WHERE ts >= ? AND ts < ? AND " + dim.getValue() + " IS NOT NULL"
                    + (dim.getKey() == AccessSummary.Dimension.REASON ? " AND outcome <> 'OK'" : "")
                    + " GROUP BY " + dim.getValue();
            try (Connection c = log.dataSource().getConnection(); PreparedStatement select = c.prepareStatement(sql)) {
                select.setObject(1, OffsetDateTime.ofInstant(from, ZoneOffset.UTC));
                select.setObject(2, OffsetDateTime.ofInstant(to, ZoneOffset.UTC));
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        expected.add(new AccessSummary.Ranked(rs.getString(1), rs.getLong(2), rs.getLong(3),
                                rs.getLong(4)));
                    }
                }
            }
            expected.sort(Comparator.comparingLong(AccessSummary.Ranked::requests).reversed()
                    .thenComparing(AccessSummary.Ranked::key));
            assertTrue(expected.size() > 1, dim.getKey() + " has values in " + from + " to " + to);

            AccessSummary.Top top = log.summary().top(dim.getKey(), AccessSummary.Metric.REQUESTS, since, until,
                    AccessSummary.MAX_LIMIT);

            assertEquals(from, top.since());
            assertEquals(to, top.until());
            assertEquals(expected, top.rows(), dim.getKey() + " from " + from + " to " + to);
        }
    }

    /** Stores {@code records} and has them ranked (on H2 by the key indexer: see SummaryTables.ranksWithTheWriter). */
    private static void store(AccessLog log, AccessRecord... records) throws SQLException {
        for (AccessRecord r : records) {
            log.writer().append(r);
        }
        assertTrue(log.writer().flush(WAIT_MS));
        log.keyIndexer().indexNow();
    }

    private static AccessRecord record(Instant ts, Outcome outcome, int status, String host, long bytesFromClient,
                                       long bytesToClient) {
        return new AccessRecord(null, ts.toEpochMilli(), 5L, NODE, "public", "10.0.0.1", 40_000, null, Kind.FORWARD,
                "HTTP/1.1", "GET", host, 80, "/", status, bytesFromClient, bytesToClient, null, null, outcome, null);
    }

    private static AccessRecord withReason(AccessRecord r, String reason) {
        return new AccessRecord(null, r.tsMs(), r.durationMs(), r.node(), r.listener(), r.clientAddr(),
                r.clientPort(), r.username(), r.kind(), r.protocol(), r.method(), r.host(), r.port(), r.path(),
                r.status(), r.bytesFromClient(), r.bytesToClient(), r.upstreamAddr(), r.sni(), r.outcome(), reason);
    }

    /** Rows as a build before V11 stored them: access_log alone, one commit. */
    private static void insertAroundTheWriter(Connection c, DatabaseUrl.Vendor vendor, int rows, Random random)
            throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement insert = c.prepareStatement(AccessLogTable.insertSql(vendor))) {
            for (int i = 1; i <= rows; i++) {
                AccessLogTable.bind(insert, i, randomRecord(random, BASE, Duration.ofDays(2)), RowChain.genesis());
                insert.addBatch();
            }
            insert.executeBatch();
        }
        c.commit();
    }

    protected DatabaseUrl.Vendor vendor() {
        return DatabaseUrl.vendorOf(config().url());
    }

    /**
     * A record with random time in {@code [from, from + span)}, kind, outcome, status (0 among them), bytes, one of
     * 40 hosts (some missing), 12 clients, 3 users or none, and a reason of 4 for a refusal.
     */
    protected static AccessRecord randomRecord(Random random, Instant from, Duration span) {
        long ts = from.toEpochMilli() + (long) (random.nextDouble() * span.toMillis());
        Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
        Outcome outcome = OUTCOMES[random.nextInt(OUTCOMES.length)];
        String host = random.nextInt(20) == 0 ? null : "h" + random.nextInt(40) + ".example.com";
        String user = random.nextInt(3) == 0 ? null : "user" + random.nextInt(3);
        String reason = outcome == Outcome.OK ? null : random.nextInt(5) == 0 ? null : "rule " + random.nextInt(4);
        return new AccessRecord(null, ts, 5L, NODE, "public", "10.0.0." + random.nextInt(12), 40_000, user, kind,
                "HTTP/1.1", "GET", host, 443, "/", STATUSES[random.nextInt(STATUSES.length)], random.nextInt(10_000),
                random.nextInt(100_000), null, null, outcome, reason);
    }

    /**
     * Asserts that each roll-up table holds exactly the sums of access_log's rows by its key, computed here from
     * the rows, once the key indexer has indexed (and on H2 ranked) every row; returns how many rows access_log holds.
     */
    protected static long assertRollUpsEqualTheLog(AccessLog log) throws SQLException {
        log.keyIndexer().indexNow();
        DataSource dataSource = log.dataSource();
        Map<String, List<Long>> expected = new TreeMap<>();
        long rows = 0;
        long sealedUntil = sealedUntil(dataSource).toEpochMilli();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ts, kind, outcome, status, bytes_from_client, bytes_to_client,"
                     + " host, client_addr, username, reason FROM access_log")) {
            while (rs.next()) {
                rows++;
                long ts = rs.getObject(1, OffsetDateTime.class).toInstant().toEpochMilli();
                String minute = Instant.ofEpochMilli(ts - Math.floorMod(ts, 60_000L)).toString();
                String hour = Instant.ofEpochMilli(ts - Math.floorMod(ts, 3_600_000L)).toString();
                String day = Instant.ofEpochMilli(ts - Math.floorMod(ts, 86_400_000L)).toString();
                int status = rs.getInt(4);
                String statusClass = String.valueOf(status >= 100 && status <= 599 ? status / 100 : 0);
                long[] sums = {1, rs.getLong(5), rs.getLong(6)};
                String series = "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + statusClass;
                count(expected, "minute|" + minute + series, sums);
                count(expected, "hour|" + hour + series, sums);
                String reason = rs.getString(3).equals("OK") ? null : rs.getString(10) == null ? rs.getString(3)
                        : rs.getString(3) + ": " + rs.getString(10);
                // The day ranks hold the sealed days alone.
                String[][] tables = ts < sealedUntil ? new String[][] {{"key", hour}, {"day", day}}
                        : new String[][] {{"key", hour}};
                for (String[] table : tables) {
                    countKey(expected, table[0], "H", table[1], rs.getString(7), sums);
                    countKey(expected, table[0], "C", table[1], rs.getString(8), sums);
                    countKey(expected, table[0], "U", table[1], rs.getString(9), sums);
                    countKey(expected, table[0], "R", table[1], reason, sums);
                }
            }
        }
        Map<String, List<Long>> actual = rollUps(dataSource);
        if (!expected.equals(actual)) {
            fail(differences(expected, actual));
        }
        return rows;
    }

    /** The first UTC day access_summary_key_day does not hold. */
    protected static Instant sealedUntil(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sealed_until FROM access_summary_key_day_mark")) {
            assertTrue(rs.next(), "the mark has its row");
            return rs.getObject(1, OffsetDateTime.class).toInstant();
        }
    }

    /** The first few roll-up rows that differ, as "key: expected [requests, from, to], was [...]". */
    private static String differences(Map<String, List<Long>> expected, Map<String, List<Long>> actual) {
        Set<String> keys = new TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        List<String> differ = new ArrayList<>();
        for (String key : keys) {
            if (!Objects.equals(expected.get(key), actual.get(key))) {
                differ.add(key + ": expected " + expected.get(key) + ", was " + actual.get(key));
            }
        }
        return differ.size() + " of " + keys.size() + " roll-up rows differ from a GROUP BY over access_log, first: "
                + String.join("; ", differ.subList(0, Math.min(5, differ.size())));
    }

    private static void countKey(Map<String, List<Long>> expected, String table, String dim, String bucket,
                                 String value, long[] sums) {
        if (value != null) {
            count(expected, table + "|" + dim + "|" + bucket + "|" + value, sums);
        }
    }

    private static void count(Map<String, List<Long>> expected, String key, long[] sums) {
        List<Long> sum = expected.computeIfAbsent(key, k -> new ArrayList<>(List.of(0L, 0L, 0L)));
        for (int i = 0; i < 3; i++) {
            sum.set(i, sum.get(i) + sums[i]);
        }
    }

    /** Every row of the four roll-up tables, keyed as {@link #assertRollUpsEqualTheLog} keys its expectation. */
    private static Map<String, List<Long>> rollUps(DataSource dataSource) throws SQLException {
        Map<String, List<Long>> actual = new TreeMap<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            for (String table : new String[] {"minute", "hour"}) {
                try (ResultSet rs = s.executeQuery("SELECT bucket, kind, outcome, status_class, requests,"
                        + " bytes_from_client, bytes_to_client FROM access_summary_" + table)) {
                    while (rs.next()) {
                        actual.put(table + "|" + rs.getObject(1, OffsetDateTime.class).toInstant() + "|"
                                + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getInt(4),
                                List.of(rs.getLong(5), rs.getLong(6), rs.getLong(7)));
                    }
                }
            }
            for (String[] table : new String[][] {{"key", "access_summary_key_hour"},
                {"day", "access_summary_key_day"}}) {
                try (ResultSet rs = s.executeQuery("SELECT dim, bucket, key_value, requests, bytes_from_client,"
                        + " bytes_to_client FROM " + table[1])) {
                    while (rs.next()) {
                        actual.put(table[0] + "|" + rs.getString(1) + "|"
                                + rs.getObject(2, OffsetDateTime.class).toInstant() + "|" + rs.getString(3),
                                List.of(rs.getLong(4), rs.getLong(5), rs.getLong(6)));
                    }
                }
            }
        }
        return actual;
    }
}
