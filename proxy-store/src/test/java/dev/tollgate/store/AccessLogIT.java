package dev.tollgate.store;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The access log on real H2 files. */
class AccessLogIT {

    private static final long WAIT_MS = 30_000;
    // Long enough that neither size nor time triggers a batch while a test looks.
    private static final int NEVER_MS = 60_000;

    @TempDir
    Path dir;

    @Test
    void everyColumnRoundTripsExactly() throws Exception {
        AccessRecord full = new AccessRecord(null, 1_767_225_600_123L, 4_321L, "node-1.example.net", "public",
                "2001:db8::17", 54_321, "alice", Kind.INTERCEPT, "HTTP/1.1", "POST", "bücher.example", 8443,
                "/api/v1/upload?q=ä", 201, 5_000_000_000L, 7L, "192.0.2.10", "bücher.example", Outcome.OK, null);
        AccessRecord sparse = new AccessRecord(null, 0L, 0L, "n", "l", null, 0, null, Kind.TUNNEL, null, null,
                null, 0, null, 400, 0L, 0L, null, null, Outcome.BAD_REQUEST, "request line unparseable \uD83D\uDE00");

        try (AccessLog log = AccessLog.open(config(500, NEVER_MS))) {
            log.writer().append(full);
            log.writer().append(sparse);
            assertTrue(log.writer().flush(WAIT_MS));

            List<AccessRecord> stored = log.reader().readAfter(0, 10);

            assertEquals(2, stored.size());
            assertEquals(full.withId(stored.get(0).id()), stored.get(0));
            assertEquals(sparse.withId(stored.get(1).id()), stored.get(1));
        }
    }

    @Test
    void pagesFollowTheIdCursor() throws Exception {
        try (AccessLog log = AccessLog.open(config(500, NEVER_MS))) {
            for (int i = 0; i < 5; i++) {
                log.writer().append(record("/" + i));
            }
            assertTrue(log.writer().flush(WAIT_MS));

            List<AccessRecord> first = log.reader().readAfter(0, 3);
            List<AccessRecord> second = log.reader().readAfter(first.get(2).id(), 3);

            assertEquals(List.of("/0", "/1", "/2"), first.stream().map(AccessRecord::path).toList());
            assertEquals(List.of("/3", "/4"), second.stream().map(AccessRecord::path).toList());
            assertTrue(first.get(2).id() < second.get(0).id());
        }
    }

    @Test
    void tenThousandRecordsFromFourThreadsLandExactlyOnce() throws Exception {
        int threads = 4;
        int perThread = 2_500;
        AccessLog log = AccessLog.open(new StoreConfig(url(), null, null, 100, 50, 256));
        ExecutorService producers = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(producers.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        log.writer().append(record("/t" + thread + "/" + i));
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(WAIT_MS, TimeUnit.MILLISECONDS);
            }
        } finally {
            producers.shutdownNow();
            log.close();
        }

        assertEquals(threads * perThread, log.writer().written());
        assertEquals(0, log.writer().failed());
        try (Connection c = connect()) {
            assertEquals(threads * perThread, count(c, "SELECT COUNT(*) FROM access_log"));
            assertEquals(threads * perThread, count(c, "SELECT COUNT(DISTINCT path) FROM access_log"));
        }
    }

    @Test
    void flushMakesRowsVisibleToASecondConnection() throws Exception {
        try (AccessLog log = AccessLog.open(config(500, NEVER_MS))) {
            for (int i = 0; i < 3; i++) {
                log.writer().append(record("/" + i));
            }

            assertTrue(log.writer().flush(WAIT_MS));

            try (Connection second = log.dataSource().getConnection()) {
                assertEquals(3, count(second, "SELECT COUNT(*) FROM access_log"));
            }
            assertEquals(0, log.writer().queueDepth());
        }
    }

    @Test
    void aLoneRecordIsStoredWithinTheFlushIntervalWithoutFlushOrClose() throws Exception {
        try (AccessLog log = AccessLog.open(config(500, 50))) {
            log.writer().append(record("/alone"));

            try (Connection second = log.dataSource().getConnection()) {
                pollUntil(() -> count(second, "SELECT COUNT(*) FROM access_log") == 1, "the lone record stored");
            }
        }
    }

    @Test
    void closingTwiceIsFineAndAppendingAfterwardsThrows() throws Exception {
        AccessLog log = AccessLog.open(config(500, NEVER_MS));
        log.writer().append(record("/before"));

        log.close();
        log.close();

        assertThrows(IllegalStateException.class, () -> log.writer().append(record("/after")));
        assertThrows(IllegalStateException.class, () -> log.writer().offer(record("/after")));
        assertTrue(log.writer().flush(WAIT_MS), "flush after close: everything before it is stored");
        try (Connection c = connect()) {
            assertEquals(1, count(c, "SELECT COUNT(*) FROM access_log"));
        }
    }

    @Test
    void theFileReopensInANewAccessLogAfterClose() throws Exception {
        try (AccessLog first = AccessLog.open(config(500, NEVER_MS))) {
            first.writer().append(record("/first"));
        }
        try (AccessLog second = AccessLog.open(config(500, NEVER_MS))) {
            second.writer().append(record("/second"));
            assertTrue(second.writer().flush(WAIT_MS));

            List<AccessRecord> stored = second.reader().readAfter(0, 10);

            assertEquals(List.of("/first", "/second"), stored.stream().map(AccessRecord::path).toList());
            try (Connection c = second.dataSource().getConnection()) {
                assertEquals(1, count(c, "SELECT COUNT(*) FROM \"flyway_schema_history\""
                        + " WHERE \"script\" = 'V1__access_log.sql' AND \"success\""));
                assertEquals(0, count(c, "SELECT COUNT(*) FROM \"flyway_schema_history\" WHERE NOT \"success\""));
            }
        }
    }

    @Test
    void anotherProcessCanOpenTheFileOnlyAfterClose() throws Exception {
        AccessLog log = AccessLog.open(config(500, NEVER_MS));
        try {
            log.writer().append(record("/one"));
            assertTrue(log.writer().flush(WAIT_MS));

            ProcessResult whileOpen = countInAnotherProcess();
            assertNotEquals(0, whileOpen.exitCode, whileOpen.output);
            assertTrue(whileOpen.output.contains("90020"), "locked while open: " + whileOpen.output);
        } finally {
            log.close();
        }

        ProcessResult afterClose = countInAnotherProcess();
        assertEquals(0, afterClose.exitCode, afterClose.output);
        assertTrue(afterClose.output.lines().anyMatch(line -> line.strip().equals("1")), afterClose.output);
    }

    @Test
    void theFileIsOpenedWithDurableWrites() throws Exception {
        try (AccessLog log = AccessLog.open(config(500, NEVER_MS));
             Connection c = log.dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(
                     "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'WRITE_DELAY'")) {
            assertTrue(rs.next());
            assertEquals("0", rs.getString(1));
        }
    }

    @Test
    void anOverLongHostAndPathAreStoredCutAndANulReplaced() throws Exception {
        String host = "h".repeat(2_000) + ".example";
        String path = "/" + "p".repeat(10_000);
        AccessRecord longOne = new AccessRecord(null, 1L, 1L, "node", "public", "127.0.0.1", 1, null, Kind.FORWARD,
                "HTTP/1.1", "GET", host, 80, path, 400, 0L, 0L, null, null, Outcome.BAD_REQUEST, "NUL in \0 here");

        try (AccessLog log = AccessLog.open(config(500, NEVER_MS))) {
            log.writer().append(longOne);
            assertTrue(log.writer().flush(WAIT_MS));

            AccessRecord stored = log.reader().readAfter(0, 1).get(0);

            assertEquals(host.substring(0, 1024), stored.host());
            assertEquals(path.substring(0, 8192), stored.path());
            assertEquals("NUL in \uFFFD here", stored.reason());
            assertEquals(0, log.writer().failed());
        }
    }

    @Test
    void aRowTheDatabaseRefusesIsCountedAndTheRestOfItsBatchIsStored() throws Exception {
        try (AccessLog log = AccessLog.open(config(500, NEVER_MS))) {
            execute(log, "ALTER TABLE access_log ADD CONSTRAINT refuse_poison CHECK (path <> '/poison')");

            log.writer().append(record("/before"));
            log.writer().append(record("/poison"));
            log.writer().append(record("/after"));
            assertTrue(log.writer().flush(WAIT_MS));

            List<AccessRecord> stored = log.reader().readAfter(0, 10);
            assertEquals(List.of("/before", "/after"), stored.stream().map(AccessRecord::path).toList());
            assertEquals(2, log.writer().written());
            assertEquals(1, log.writer().failed());
        }
    }

    @Test
    void recordsWaitWhileTheTableIsMissingAndLandOnceItIsBack() throws Exception {
        try (AccessLog log = AccessLog.open(config(500, NEVER_MS))) {
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            for (int i = 0; i < 5; i++) {
                log.writer().append(record("/" + i));
            }

            assertFalse(log.writer().flush(500), "nothing can be stored without the table");

            execute(log, "ALTER TABLE access_log_away RENAME TO access_log");
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(5, log.reader().readAfter(0, 10).size());
            assertEquals(5, log.writer().written());
            assertEquals(0, log.writer().failed());
        }
    }

    @Test
    void aFlushDuringCloseReturnsOnceCloseHasStoredEverything() throws Exception {
        AccessLog log = AccessLog.open(config(500, NEVER_MS));
        ExecutorService background = Executors.newFixedThreadPool(2);
        try {
            // Without the table the writer cannot finish, which holds close() open while the flush comes in.
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            log.writer().append(record("/queued"));
            Future<?> closing = background.submit(log::close);
            pollUntil(() -> isClosed(log.writer()), "the writer closed to new records");

            Future<Boolean> flushed = background.submit(() -> log.writer().flush(WAIT_MS));
            execute(log, "ALTER TABLE access_log_away RENAME TO access_log");

            assertTrue(flushed.get(WAIT_MS + 5_000, TimeUnit.MILLISECONDS));
            closing.get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertTrue(log.writer().written() >= 1);
            assertEquals(0, log.writer().failed());
        } finally {
            background.shutdownNow();
            log.close();
        }
    }

    @Test
    void closeGivesUpAfterItsTimeoutAndSaysHowManyRecordsAreLeft() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger writerLog = (Logger) LoggerFactory.getLogger(AccessLogWriter.class);
        logged.start();
        writerLog.addAppender(logged);
        try {
            AccessLog log = AccessLog.open(config(500, NEVER_MS), 300);
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            for (int i = 0; i < 3; i++) {
                log.writer().append(record("/" + i));
            }

            log.close();

            assertEquals(0, log.writer().written());
            assertThrows(IllegalStateException.class, () -> log.writer().append(record("/late")));
            assertFalse(log.writer().flush(100));
            assertTrue(logged.list.stream().anyMatch(e -> e.getLevel() == Level.WARN
                    && e.getFormattedMessage().contains("3 access records not stored")), logged.list.toString());
        } finally {
            writerLog.detachAppender(logged);
        }
    }

    // --- helpers ---

    private String url() {
        return "jdbc:h2:file:" + dir.resolve("access");
    }

    /** The owner's password the first open made (the database has no other). */
    private String ownerPassword() {
        try {
            return Files.readString(dir.resolve(AccessLog.OWNER_PASSWORD_FILE)).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private StoreConfig config(int batchSize, int flushIntervalMs) {
        return new StoreConfig(url(), null, null, batchSize, flushIntervalMs, null);
    }

    private static AccessRecord record(String path) {
        return new AccessRecord(null, System.currentTimeMillis(), 12L, "node", "public", "127.0.0.1", 40_000,
                null, Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 512L, "192.0.2.1",
                null, Outcome.OK, null);
    }

    /** Whether the writer turns records away; each offer it takes is stored like any other. */
    private static boolean isClosed(AccessLogWriter writer) {
        try {
            writer.offer(record("/probe"));
            return false;
        } catch (IllegalStateException closed) {
            return true;
        }
    }

    /** A connection of the test's own, for after the access log is closed. */
    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url(), StoreConfig.DEFAULT_USER, ownerPassword());
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void execute(AccessLog log, String sql) throws SQLException {
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
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

    private record ProcessResult(int exitCode, String output) {
    }

    /** Counts the rows through H2's own shell in a new JVM: a second process, as an auditor's would be. */
    private ProcessResult countInAnotherProcess() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                "org.h2.tools.Shell", "-url", url(), "-user", StoreConfig.DEFAULT_USER,
                "-password", ownerPassword(), "-sql", "SELECT COUNT(*) FROM access_log")
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(WAIT_MS, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail("the H2 shell did not finish: " + output);
        }
        return new ProcessResult(p.exitValue(), output);
    }
}
