package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogKeyTable;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Retention on real H2 files: what a purge deletes, what it keeps, and the writer beside it. */
class RetentionIT {

    private static final long WAIT_MS = 60_000;
    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final int DAYS = 30;
    private static final Instant CUTOFF = NOW.minus(Duration.ofDays(DAYS));
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final RetentionPurger.Pacing EVERY_50_MS = RetentionPurger.Pacing.every(50);
    private static final Runnable NO_HOOK = () -> { };

    @TempDir
    Path dir;

    private final Logger purgerLog = (Logger) LoggerFactory.getLogger(RetentionPurger.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void captureLogAfterEarlierPurgers() throws Exception {
        // An earlier test's closed purger may have a thread still on its way out.
        pollUntil(() -> retentionThreads().isEmpty(), "no retention thread left from an earlier test");
        logged.start();
        purgerLog.addAppender(logged);
    }

    @AfterEach
    void releaseLog() {
        purgerLog.detachAppender(logged);
    }

    @Test
    void purgeDeletesExactlyTheRowsOlderThanTheCutoff() throws Exception {
        try (AccessLog log = open()) {
            append(log, Instant.EPOCH, "/epoch");
            append(log, CUTOFF.minus(Duration.ofDays(1)), "/day-before");
            append(log, CUTOFF.minusMillis(1), "/millisecond-before");
            append(log, CUTOFF, "/at-cutoff");
            append(log, CUTOFF.plusMillis(1), "/millisecond-after");
            append(log, NOW, "/now");
            append(log, NOW.plus(Duration.ofDays(1)), "/future");
            assertTrue(log.writer().flush(WAIT_MS));

            try (RetentionPurger purger = purger(log, DAYS, NO_HOOK)) {
                assertEquals(3, purger.purgeNow());
                assertEquals(0, purger.purgeNow(), "a second purge finds nothing left to delete");
            }

            assertEquals(List.of("/at-cutoff", "/millisecond-after", "/now", "/future"), paths(log));
        }
    }

    @Test
    void keysOfPurgedRowsGoAfterThePurgeAndTheSurvivorsKeepTheirs() throws Exception {
        try (AccessLog log = open()) {
            // One round each: a round stores one entry per value, and an entry with a survivor in it stays whole.
            for (String path : List.of("/old-1", "/old-2", "/new")) {
                append(log, path.equals("/new") ? NOW : CUTOFF.minus(Duration.ofDays(path.equals("/old-1") ? 2 : 1)),
                        path);
                assertTrue(log.writer().flush(WAIT_MS));
                log.keyIndexer().indexNow();
            }
            assertEquals(6, queryLong(log, "SELECT COUNT(*) FROM access_log_key"), "a host and a client key each");

            try (RetentionPurger purger = purger(log, DAYS, NO_HOOK)
                    .afterEachPurge(log.keyIndexer()::deleteOrphanKeys)) {
                assertEquals(2, purger.purgeNow());
            }

            assertEquals(2, queryLong(log, "SELECT COUNT(*) FROM access_log_key"), "only the survivor's keys");
            assertEquals(0, queryLong(log, "SELECT COUNT(*) FROM access_log_key k WHERE NOT EXISTS"
                    + " (SELECT 1 FROM access_log a WHERE a.id = k.k / " + AccessLogKeyTable.firstKeyOf(1) + " * "
                    + AccessLogKeyTable.IDS_PER_EPOCH + " + MOD(k.k, " + AccessLogKeyTable.IDS_PER_EPOCH + "))"));
            assertEquals(List.of("/new"), log.reader().page(AccessQuery.all().withHost("example.org")).stream()
                    .map(AccessRecord::path).toList(), "a host query still finds the survivor");
        }
    }

    @Test
    void adminEventsAreKeptWhateverTheirAge() throws Exception {
        try (AccessLog log = open()) {
            log.adminEvents().record(new AdminEvent(null, Instant.EPOCH, "node", "admin", "127.0.0.1",
                    "listener.create", "public", AdminEvent.OK, 201, null));
            append(log, Instant.EPOCH, "/epoch");
            assertTrue(log.writer().flush(WAIT_MS));

            try (RetentionPurger purger = purger(log, DAYS, NO_HOOK)) {
                assertEquals(1, purger.purgeNow());
            }

            assertEquals(1, log.adminEvents().page(0, 10).size());
        }
    }

    @Test
    void twentyFiveThousandOldRowsGoInThreeBatchesAndOneLogLine() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, CUTOFF.minus(Duration.ofDays(10)), 25_000, "/old");
            appendMany(log, NOW, 10, "/new");

            try (RetentionPurger purger = purger(log, DAYS, NO_HOOK)) {
                assertEquals(25_000, purger.purgeNow());
                assertEquals(0, purger.purgeNow());
            }

            assertEquals(0, countOlderThanCutoff(log));
            assertEquals(10, count(log));
            assertEquals(List.of("retention - deleted 25000 access-log rows older than " + CUTOFF + " (3 batches"),
                    infoLines("retention - deleted").stream().map(line -> line.substring(0, line.indexOf(',')))
                            .toList(), "one line, for the purge that deleted something");
        }
    }

    @Test
    void retentionZeroKeepsEverythingAndStartsNoThread() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, Instant.EPOCH, 100, "/epoch");

            try (RetentionPurger purger = purger(log, 0, NO_HOOK)) {
                assertEquals(0, purger.purgeNow());
                assertTrue(retentionThreads().isEmpty());
            }

            assertEquals(100, count(log));
        }
    }

    @Test
    void writerKeepsWritingDuringAPurge() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, CUTOFF.minus(Duration.ofDays(1)), 30_000, "/old");
            ExecutorService producer = Executors.newSingleThreadExecutor();
            AtomicBoolean purging = new AtomicBoolean(true);
            try (RetentionPurger purger = purger(log, DAYS, NO_HOOK)) {
                // Appends until the purge is over, and at least a few rows whatever the timing.
                Future<Integer> appended = producer.submit(() -> {
                    int n = 0;
                    while (purging.get() || n < 100) {
                        append(log, NOW, "/during-" + n++);
                    }
                    return n;
                });
                long deleted;
                try {
                    deleted = purger.purgeNow();
                } finally {
                    purging.set(false);
                }
                int during = appended.get(WAIT_MS, TimeUnit.MILLISECONDS);
                assertTrue(log.writer().flush(WAIT_MS));

                assertEquals(30_000, deleted);
                assertEquals(0, countOlderThanCutoff(log));
                assertEquals(during, count(log), "every row appended during the purge, and nothing else");
                assertEquals(during, countDistinctPaths(log));
            } finally {
                producer.shutdownNow();
            }
        }
    }

    @Test
    void writerStoresRowsWhileADeleteBatchIsUncommitted() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, CUTOFF.minus(Duration.ofDays(1)), 500, "/old");
            List<Boolean> flushedInsideBatch = new ArrayList<>();
            // Runs inside the batch's transaction, between its deletes and its commit.
            Runnable writeAndFlush = () -> {
                for (int i = 0; i < 50; i++) {
                    append(log, NOW, "/inside-" + i);
                }
                flushedInsideBatch.add(log.writer().flush(WAIT_MS));
            };

            try (RetentionPurger purger = purger(log, DAYS, writeAndFlush)) {
                assertEquals(500, purger.purgeNow());
            }

            assertEquals(List.of(true), flushedInsideBatch, "the writer committed while the delete was open");
            assertEquals(50, count(log));
        }
    }

    @Test
    void closeDuringAPurgeStopsItAfterTheCurrentBatch() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, CUTOFF.minus(Duration.ofDays(1)), 25_000, "/old");
            AtomicReference<RetentionPurger> purger = new AtomicReference<>();
            purger.set(purger(log, DAYS, () -> purger.get().close()));

            assertEquals(RetentionPurger.BATCH_SIZE, purger.get().purgeNow());
            assertEquals(0, purger.get().purgeNow(), "a closed purger deletes nothing");
            assertEquals(15_000, count(log));
        }
    }

    @Test
    void scheduledPurgesRunOnTheirOwnThreadUntilClosed() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, CUTOFF.minus(Duration.ofDays(1)), 1_000, "/old");
            RetentionPurger purger = RetentionPurger.start(log.dataSource(), DAYS, EVERY_50_MS, CLOCK, NO_HOOK);
            try {
                pollUntil(() -> count(log) == 0, "the scheduled purge deleted the old rows");
                assertEquals(1, retentionThreads().size());
                appendMany(log, CUTOFF.minus(Duration.ofDays(1)), 10, "/old-again");
                pollUntil(() -> count(log) == 0, "the next scheduled purge deleted the new old rows");
            } finally {
                purger.close();
                purger.close();
            }
            pollUntil(() -> retentionThreads().isEmpty(), "the retention thread ended");
        }
    }

    @Test
    void aFailedScheduledPurgeIsLoggedAndTheNextOneRuns() throws Exception {
        try (AccessLog log = open()) {
            appendMany(log, CUTOFF.minus(Duration.ofDays(1)), 100, "/old");
            // A real failure: the table is not there while the purge looks for it.
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            try (RetentionPurger purger = RetentionPurger.start(log.dataSource(), DAYS, EVERY_50_MS, CLOCK, NO_HOOK)) {
                pollUntil(() -> logged.list.stream().anyMatch(e -> e.getLevel() == Level.WARN
                        && e.getFormattedMessage().startsWith("retention - purging old access-log rows failed")),
                        "the failure was logged");
                execute(log, "ALTER TABLE access_log_away RENAME TO access_log");
                pollUntil(() -> count(log) == 0, "a later purge deleted the old rows");
                assertEquals(1, retentionThreads().size(), "the thread survived the failure");
            }
        }
    }

    private AccessLog open() throws SQLException {
        return AccessLog.open(new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, 1_000, 50, null));
    }

    private static RetentionPurger purger(AccessLog log, int days, Runnable beforeCommit) {
        return RetentionPurger.start(log.dataSource(), days, RetentionPurger.Pacing.onlyWhenAsked(true), CLOCK,
                beforeCommit);
    }

    private static void append(AccessLog log, Instant ts, String path) {
        log.writer().append(new AccessRecord(null, ts.toEpochMilli(), 12L, "node", "public", "127.0.0.1", 40_000,
                null, Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 512L, "192.0.2.1", null,
                Outcome.OK, null));
    }

    /** {@code n} rows one millisecond apart from {@code first}, stored when this returns. */
    private static void appendMany(AccessLog log, Instant first, int n, String pathPrefix) {
        for (int i = 0; i < n; i++) {
            append(log, first.plusMillis(i), pathPrefix + "/" + i);
        }
        assertTrue(log.writer().flush(WAIT_MS));
    }

    private static List<String> paths(AccessLog log) throws SQLException {
        List<String> paths = new ArrayList<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT path FROM access_log ORDER BY ts")) {
            while (rs.next()) {
                paths.add(rs.getString(1));
            }
        }
        return paths;
    }

    private static long count(AccessLog log) throws SQLException {
        return queryLong(log, "SELECT COUNT(*) FROM access_log");
    }

    private static long countDistinctPaths(AccessLog log) throws SQLException {
        return queryLong(log, "SELECT COUNT(DISTINCT path) FROM access_log");
    }

    private static long countOlderThanCutoff(AccessLog log) throws SQLException {
        try (Connection c = log.dataSource().getConnection();
             PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM access_log WHERE ts < ?")) {
            s.setObject(1, OffsetDateTime.ofInstant(CUTOFF, ZoneOffset.UTC));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long queryLong(AccessLog log, String sql) throws SQLException {
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void execute(AccessLog log, String sql) throws SQLException {
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private List<String> infoLines(String prefix) {
        return logged.list.stream()
                .filter(e -> e.getLevel() == Level.INFO)
                .map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith(prefix))
                .toList();
    }

    private static List<Thread> retentionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(RetentionPurger.THREAD_NAME) && t.isAlive())
                .toList();
    }

    private static void pollUntil(Callable<Boolean> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT_MS + " ms: " + what);
            }
            Thread.sleep(10);
        }
    }
}
