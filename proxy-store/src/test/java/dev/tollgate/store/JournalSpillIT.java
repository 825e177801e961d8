package dev.tollgate.store;

import dev.tollgate.testing.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outages ride on disk (issue #21, phase 2): while the database cannot store, records that find the writer's
 * queue full wait in the journal, not in memory and not at the door, and are stored once, in journal order, when
 * it can again; only the journal's own limit brings the overflow policy in. The database is made unable to store
 * as in OverflowIT: its table renamed away under the writer, and back.
 */
class JournalSpillIT {

    private static final int QUEUE_CAPACITY = 50;
    private static final int BATCH_SIZE = 20;
    private static final long WAIT_MS = 60_000;
    private static final String NODE = "node-s";

    @TempDir
    Path dir;

    private StoreConfig config(long journalMaxBytes) {
        return new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null, BATCH_SIZE, 10,
                QUEUE_CAPACITY, null, null, null, StoreConfig.MIN_JOURNAL_SEGMENT_BYTES, null, journalMaxBytes, null);
    }

    @Test
    void recordsPastTheQueueWaitInTheJournalAndAreStoredOnceInOrderWhenTheDatabaseIsBack() throws Exception {
        int records = 40 * QUEUE_CAPACITY;
        try (AccessLog log = AccessLog.open(config(64L * 1024 * 1024), journalDir(), NODE)) {
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            for (int i = 0; i < records; i++) {
                log.writer().append(record("/" + i));
            }
            assertTrue(log.writer().isSpilling(), "the queue filled and records went on into the journal");
            assertFalse(log.writer().isFull(), "no overflow: the journal has room");
            assertTrue(log.writer().journal().depthRecords() >= records - QUEUE_CAPACITY - BATCH_SIZE);
            assertTrue(segments().size() > 2, "the waiting records fill several segments: " + segments());

            execute(log, "ALTER TABLE access_log_away RENAME TO access_log");
            assertTrue(log.writer().flush(WAIT_MS), "everything appended is stored");

            assertEquals(LongStream.rangeClosed(1, records).boxed().toList(), seqsInStoredOrder(log),
                    "each record once, stored in journal order");
            assertFalse(log.writer().isSpilling(), "caught up: records queue again");
            assertEquals(0, log.writer().journal().depthRecords());
            assertEquals(1, segments().size(), "the read-back segments are deleted: " + segments());

            log.writer().append(record("/after"));
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(records + 1, seqsInStoredOrder(log).size());
        }
    }

    @Test
    void aFlushWaitsForWhatWaitsInTheJournalToo() throws Exception {
        try (AccessLog log = AccessLog.open(config(64L * 1024 * 1024), journalDir(), NODE)) {
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            for (int i = 0; i < 5 * QUEUE_CAPACITY; i++) {
                log.writer().append(record("/" + i));
            }
            assertTrue(log.writer().isSpilling());
            assertFalse(log.writer().flush(500), "nothing can be stored: the flush runs out of time");

            execute(log, "ALTER TABLE access_log_away RENAME TO access_log");
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(5 * QUEUE_CAPACITY, seqsInStoredOrder(log).size());
        }
    }

    @Test
    void atTheJournalsLimitTheOverflowPolicyAppliesAndWhatWasTakenIsStoredOnce() throws Exception {
        long limit = 4L * StoreConfig.MIN_JOURNAL_SEGMENT_BYTES;
        try (AccessLog log = AccessLog.open(config(limit), journalDir(), NODE)) {
            execute(log, "ALTER TABLE access_log RENAME TO access_log_away");
            int taken = 0;
            // A bounded loop: 256 KiB of journal hold some 1,200 of these records.
            for (int i = 0; i < 10_000 && log.writer().offer(record("/" + i)); i++) {
                taken++;
            }
            assertTrue(log.writer().isFull(), "the journal reached its limit");
            assertTrue(taken > QUEUE_CAPACITY * 4, taken + " records taken before the limit");
            assertEquals(1, log.writer().dropped(), "the one turned away at the limit");

            // An append (the block policy) waits at the limit until the database takes records again.
            AtomicBoolean appended = new AtomicBoolean();
            Thread waiting = new Thread(() -> {
                log.writer().append(record("/waited"));
                appended.set(true);
            });
            waiting.start();
            Poll.until("the append waiting", () -> waiting.getState() == Thread.State.TIMED_WAITING
                    || waiting.getState() == Thread.State.WAITING);
            assertFalse(appended.get());

            execute(log, "ALTER TABLE access_log_away RENAME TO access_log");
            waiting.join(WAIT_MS);
            assertTrue(appended.get(), "the append went through once there was room");
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(LongStream.rangeClosed(1, taken + 1).boxed().toList(), seqsInStoredOrder(log));
        }
    }

    @Test
    void recordsStillWaitingInTheJournalAtACrashAreStoredOnceAtTheNextStart() throws Exception {
        int records = 10 * QUEUE_CAPACITY;
        AccessLog crashed = AccessLog.open(config(64L * 1024 * 1024), journalDir(), NODE, 1,
                KeyIndexer.DEFAULT_INTERVAL_MS);
        execute(crashed, "ALTER TABLE access_log RENAME TO access_log_away");
        for (int i = 0; i < records; i++) {
            crashed.writer().append(record("/" + i));
        }
        assertTrue(crashed.writer().isSpilling());
        execute(crashed, "ALTER TABLE access_log_away RENAME TO access_log");
        // Some are stored now, some not yet when the process "dies": the writer gives up at once on close.
        Poll.until("some rows stored", () -> count(crashed) > 0);
        crashed.close();

        try (AccessLog log = AccessLog.open(config(64L * 1024 * 1024), journalDir(), NODE)) {
            assertEquals(LongStream.rangeClosed(1, records).boxed().toList(),
                    seqsInStoredOrder(log).stream().sorted().toList(), "each record once");
        }
    }

    private Path journalDir() {
        return dir.resolve("journal");
    }

    private List<Path> segments() throws Exception {
        try (Stream<Path> files = Files.list(journalDir())) {
            return files.filter(f -> f.toString().endsWith(".journal")).sorted().toList();
        }
    }

    private static AccessRecord record(String path) {
        return new AccessRecord(null, System.currentTimeMillis(), 3L, NODE, "public", "127.0.0.1", 40_000, null,
                Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 512L, "192.0.2.1", null,
                Outcome.OK, null);
    }

    private static void execute(AccessLog log, String sql) throws SQLException {
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long count(AccessLog log) throws SQLException {
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM access_log")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The rows' journal numbers in the order they were stored (by id). */
    private static List<Long> seqsInStoredOrder(AccessLog log) throws SQLException {
        List<Long> seqs = new ArrayList<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT seq FROM access_log ORDER BY id")) {
            while (rs.next()) {
                seqs.add(rs.getLong(1));
            }
        }
        return seqs;
    }
}
