package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogInserter;
import dev.tollgate.store.internal.DatabaseUrl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the journal promises the database, on each database (H2 here, PostgreSQL in PgJournalReplayIT): records a
 * crash kept from the writer are stored at the next open, a record stored twice is one row, and a record cut short
 * in the middle of its append is dropped whole.
 */
public abstract class JournalReplayScenarios {

    protected static final String NODE = "node-j";
    private static final long WAIT_MS = 30_000;

    @TempDir
    protected Path dir;

    /** The database under test, with the writer's settings given. */
    protected abstract StoreConfig config(Integer journalSegmentBytes);

    protected Path journalDir() {
        return dir.resolve("journal");
    }

    @Test
    void recordsJournaledButNeverStoredAreStoredAtTheNextOpen() throws Exception {
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            for (int i = 0; i < 50; i++) {
                // In the journal, as the request path leaves it before the client's last byte; never queued, as
                // when the process dies right then.
                log.writer().journal().append(record("/" + i));
            }
        }

        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            assertEquals(paths(0, 50), storedPaths(log));
            assertEquals(seqs(1, 50), storedSeqs(log));
            assertEquals(0, log.writer().journal().depthRecords());
        }
    }

    @Test
    void aRecordStoredBeforeTheCrashAndReplayedAfterItIsOneRow() throws Exception {
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            for (int i = 0; i < 20; i++) {
                log.writer().append(record("/" + i));
            }
            assertTrue(log.writer().flush(WAIT_MS));
            for (int i = 20; i < 25; i++) {
                log.writer().journal().append(record("/" + i));
            }
        }

        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            assertEquals(paths(0, 25), storedPaths(log));
            log.writer().append(record("/25"));
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(seqs(1, 26), storedSeqs(log), "numbering goes on after the replayed records");
        }
    }

    @Test
    void aBatchWhoseCommitTookEffectButReportedAFailureIsStoredOnceByItsRetry() throws Exception {
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            List<JournaledRecord> pending = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                pending.add(new JournaledRecord(1_000 + i, record("/" + i)));
            }
            DatabaseUrl.Vendor vendor = DatabaseUrl.vendorOf(config(null).url());
            CommitThatFails dataSource = new CommitThatFails(log.dataSource());
            List<Long> released = new ArrayList<>();
            AccessLogInserter inserter = new AccessLogInserter(dataSource, vendor, released::add);
            try {
                dataSource.failNextCommitAfterItTookEffect();
                assertThrows(SQLException.class, () -> inserter.insert(pending));
                assertEquals(10, pending.size(), "the batch stays in hand, as the writer keeps it");
                // The writer's retry, on a fresh connection; then the next batch, retried the same way.
                inserter.insert(pending);
                List<JournaledRecord> next = new ArrayList<>(List.of(new JournaledRecord(1_010, record("/10"))));
                dataSource.failNextCommitAfterItTookEffect();
                assertThrows(SQLException.class, () -> inserter.insert(next));
                inserter.insert(next);
                // Skipped, not refused: a refused duplicate would be logged at ERROR as a lost audit row.
                assertEquals(0, inserter.rejected());
            } finally {
                inserter.close();
            }

            assertEquals(paths(0, 11), storedPaths(log));
            assertEquals(seqs(1_000, 1_010), storedSeqs(log));
            assertEquals(seqs(1_000, 1_010), released.stream().sorted().toList(), "each released once");
        }
    }

    @Test
    void aTornLastRecordIsDroppedWholeAndTheOthersAreStored() throws Exception {
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            for (int i = 0; i < 10; i++) {
                log.writer().journal().append(record("/" + i));
            }
        }
        // A kill -9 in the middle of the last append: the file ends 7 bytes into the last record.
        Path segment = onlySegment();
        try (FileChannel file = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            file.truncate(file.size() - 7);
        }

        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            assertEquals(paths(0, 9), storedPaths(log));
            log.writer().append(record("/next"));
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(10, storedPaths(log).size());
        }
    }

    @Test
    void aLastRecordWithAWrongChecksumIsDroppedWhole() throws Exception {
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            for (int i = 0; i < 10; i++) {
                log.writer().journal().append(record("/" + i));
            }
        }
        // Its length is whole but one byte of it never made it: the 'l' of "/9"'s listener turned to 'X'.
        Path segment = onlySegment();
        try (FileChannel file = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            long at = file.size() - 20;
            file.read(one, at);
            one.flip();
            byte flipped = (byte) (one.get(0) ^ 0x5A);
            file.write(ByteBuffer.wrap(new byte[] {flipped}), at);
        }

        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            assertEquals(paths(0, 9), storedPaths(log));
        }
    }

    protected Path onlySegment() throws Exception {
        try (Stream<Path> files = Files.list(journalDir())) {
            List<Path> segments = files.filter(f -> f.toString().endsWith(".journal")).toList();
            assertEquals(1, segments.size(), segments.toString());
            return segments.get(0);
        }
    }

    protected static AccessRecord record(String path) {
        return new AccessRecord(null, System.currentTimeMillis(), 12L, NODE, "public", "127.0.0.1", 40_000,
                null, Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 512L, "192.0.2.1",
                null, Outcome.OK, null);
    }

    protected static List<String> paths(int from, int to) {
        List<String> paths = new ArrayList<>();
        for (int i = from; i < to; i++) {
            paths.add("/" + i);
        }
        return paths;
    }

    private static List<Long> seqs(long from, long to) {
        List<Long> seqs = new ArrayList<>();
        for (long s = from; s <= to; s++) {
            seqs.add(s);
        }
        return seqs;
    }

    protected static List<String> storedPaths(AccessLog log) throws SQLException {
        List<String> paths = new ArrayList<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT path FROM access_log ORDER BY seq")) {
            while (rs.next()) {
                paths.add(rs.getString(1));
            }
        }
        return paths;
    }

    protected static List<Long> storedSeqs(AccessLog log) throws SQLException {
        List<Long> seqs = new ArrayList<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT seq FROM access_log WHERE node = '" + NODE + "' ORDER BY seq")) {
            while (rs.next()) {
                seqs.add(rs.getLong(1));
            }
        }
        return seqs;
    }
}
