package dev.tollgate.store;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    private List<Path> segments() throws Exception {
        try (Stream<Path> files = Files.list(journalDir())) {
            return files.filter(f -> f.toString().endsWith(".journal")).sorted().toList();
        }
    }
}
