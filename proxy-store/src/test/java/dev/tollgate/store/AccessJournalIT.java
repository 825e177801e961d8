package dev.tollgate.store;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The journal on real files in front of a real H2 file: the replay scenarios, then the journal's own upkeep. */
class AccessJournalIT extends JournalReplayScenarios {

    private static final long WAIT_MS = 30_000;

    @Override
    protected StoreConfig config(Integer journalSegmentBytes) {
        return new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null, 500, 60_000, null, null,
                null, null, journalSegmentBytes, null);
    }

    @Test
    void aSegmentIsDeletedOnceEveryRecordInItIsStored() throws Exception {
        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE)) {
            String longPath = "/" + "x".repeat(4_000);
            for (int i = 0; i < 100; i++) {
                log.writer().append(record(longPath + i));
            }
            assertTrue(segments().size() > 4, "100 records of 4 KB fill several segments of 64 KiB: " + segments());
            assertTrue(log.writer().flush(WAIT_MS));

            assertEquals(1, segments().size(), "only the segment being appended to is left: " + segments());
            assertEquals(0, log.writer().journal().depthRecords());
        }
    }

    @Test
    void recordsOverSeveralSegmentsAreAllStoredAtTheNextOpenSegmentBySegment() throws Exception {
        String longPath = "/" + "y".repeat(4_000);
        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE)) {
            for (int i = 0; i < 100; i++) {
                log.writer().journal().append(record(longPath + i));
            }
        }
        int files = segments().size();
        assertTrue(files > 4, "several segments: " + files);

        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE)) {
            List<String> stored = storedPaths(log);
            assertEquals(100, stored.size());
            for (int i = 0; i < 100; i++) {
                assertEquals(longPath + i, stored.get(i));
            }
            assertEquals(1, segments().size(), "the replayed segments are deleted but the newest: " + segments());
        }
    }

    @Test
    void numberingGoesOnAcrossRestartsEvenWithoutTheJournal() throws Exception {
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            log.writer().append(record("/0"));
            log.writer().append(record("/1"));
            assertTrue(log.writer().flush(WAIT_MS));
        }
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            long seq = log.writer().append(record("/2"));
            assertTrue(log.writer().flush(WAIT_MS));
            assertEquals(3, seq);
        }
        // A journal deleted by hand: the database's highest number is the floor, so that no new record takes the
        // number of a stored one (its insert would be skipped as a duplicate).
        try (Stream<Path> files = Files.list(journalDir())) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        try (AccessLog log = AccessLog.open(config(null), journalDir(), NODE)) {
            assertEquals(4, log.writer().journal().append(record("/3")));
        }
    }

    @Test
    void aReaderKeepsTheSegmentsItHasNotDeliveredThoughTheDatabaseStoredThem() throws Exception {
        String longPath = "/" + "r".repeat(4_000);
        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE,
                List.of(new JournalReader.Start("siem", JournalReader.Start.FROM_NOW, true)))) {
            for (int i = 0; i < 100; i++) {
                log.writer().append(record(longPath + i));
            }
            assertTrue(log.writer().flush(WAIT_MS));
            assertTrue(segments().size() > 4, "stored, but not delivered: every segment stays " + segments());

            JournalReader reader = log.journalReader("siem");
            List<JournaledRecord> read = readAll(reader, reader.delivered() + 1);
            assertEquals(100, read.size());
            for (int i = 0; i < 100; i++) {
                assertEquals(longPath + i, read.get(i).record().path());
                assertEquals(read.get(0).seq() + i, read.get(i).seq(), "in order, no gap");
            }
            reader.commit(read.get(99).seq());
            assertEquals(1, segments().size(), "delivered and stored: only the one appended to is left");
        }
    }

    @Test
    void aReaderGoesOnFromItsCommittedPositionAfterARestartAndOneLeftOutHoldsNothing() throws Exception {
        String longPath = "/" + "s".repeat(4_000);
        long committed;
        List<JournalReader.Start> siem = List.of(new JournalReader.Start("siem", JournalReader.Start.FROM_NOW,
                true));
        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE,
                siem)) {
            for (int i = 0; i < 100; i++) {
                log.writer().append(record(longPath + i));
            }
            assertTrue(log.writer().flush(WAIT_MS));
            JournalReader reader = log.journalReader("siem");
            List<JournaledRecord> firstForty = new ArrayList<>();
            reader.read(reader.delivered() + 1, 40, firstForty);
            committed = firstForty.get(39).seq();
            reader.commit(committed);
        }
        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE,
                List.of(new JournalReader.Start("siem", committed, true)))) {
            JournalReader reader = log.journalReader("siem");
            assertEquals(committed, reader.delivered());
            List<JournaledRecord> rest = readAll(reader, committed + 1);
            assertEquals(60, rest.size(), "the replay at open stored them, and kept them for the reader");
            assertEquals(longPath + 40, rest.get(0).record().path());
            assertEquals(committed + 1, rest.get(0).seq());
        }
        try (AccessLog log = AccessLog.open(config(StoreConfig.MIN_JOURNAL_SEGMENT_BYTES), journalDir(), NODE)) {
            assertEquals(1, segments().size(), "no reader named at open: nothing is held " + segments());
        }
    }

    @Test
    void appendsWaitForABlockingReaderOnceTheJournalHoldsJournalMaxBytes() throws Exception {
        String longPath = "/" + "b".repeat(4_000);
        int segment = StoreConfig.MIN_JOURNAL_SEGMENT_BYTES;
        StoreConfig config = new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null, 500, 60_000,
                null, null, null, null, segment, null, 4L * segment, null);
        try (AccessLog log = AccessLog.open(config, journalDir(), NODE, List.of(
                new JournalReader.Start("siem", JournalReader.Start.FROM_NOW, true),
                new JournalReader.Start("lines", JournalReader.Start.FROM_NOW, false)))) {
            int offered = 0;
            while (log.writer().offer(record(longPath + offered))) {
                offered++;
                assertTrue(offered < 200, "4 segments of 64 KiB hold about 64 records of 4 KB, not 200");
            }
            assertTrue(log.writer().isFull());
            assertTrue(log.writer().flush(WAIT_MS), "the database has stored them all: only the reader holds");

            JournalReader siem = log.journalReader("siem");
            List<JournaledRecord> read = readAll(siem, siem.delivered() + 1);
            assertEquals(offered, read.size());
            siem.commit(read.get(read.size() - 1).seq());
            assertFalse(log.writer().isFull(), "delivered: room again, though the drop reader has read"
                    + " nothing (it never makes appends wait)");
            assertTrue(log.writer().offer(record("/after")));
            assertTrue(segments().size() > 4, "the drop reader still holds what it has not delivered");
        }
    }

    private static List<JournaledRecord> readAll(JournalReader reader, long fromSeq) throws Exception {
        List<JournaledRecord> read = new ArrayList<>();
        while (reader.read(read.isEmpty() ? fromSeq : read.get(read.size() - 1).seq() + 1, 32, read) > 0) {
            // on until it has caught up
        }
        return read;
    }

    private List<Path> segments() throws Exception {
        try (Stream<Path> files = Files.list(journalDir())) {
            return files.filter(f -> f.toString().endsWith(".journal")).sorted().toList();
        }
    }
}
