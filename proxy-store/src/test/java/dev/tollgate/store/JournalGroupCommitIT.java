package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code store.fsync}'s group commit on real files: one fdatasync covers every record appended before it started,
 * so records appended while another is being forced share the next one; what was forced is all read back.
 */
class JournalGroupCommitIT {

    @TempDir
    Path dir;

    @Test
    void recordsAppendedBeforeAnFdatasyncStartsShareIt() throws Exception {
        try (AccessJournal journal = open(true, StoreConfig.DEFAULT_JOURNAL_SEGMENT_BYTES)) {
            long first = journal.append(JournalReplayScenarios.record("/a"));
            long second = journal.append(JournalReplayScenarios.record("/b"));

            journal.awaitDurable(first);
            assertEquals(1, journal.forces(), "the first wait forces the file once");
            journal.awaitDurable(second);
            assertEquals(1, journal.forces(), "the second record was forced with the first: no fdatasync of its own");

            long third = journal.append(JournalReplayScenarios.record("/c"));
            journal.awaitDurable(third);
            assertEquals(2, journal.forces(), "a record appended after the last fdatasync needs one more");
            assertTrue(journal.failure().isEmpty(), journal.failure().toString());
        }
    }

    @Test
    void aRecordWhoseSegmentWasSealedSinceIsDurableWithoutAnotherFdatasyncOfIt() throws Exception {
        String longPath = "/" + "z".repeat(4_000);
        try (AccessJournal journal = open(true, StoreConfig.MIN_JOURNAL_SEGMENT_BYTES)) {
            long first = journal.append(JournalReplayScenarios.record(longPath + 0));
            for (int i = 1; i < 40; i++) {
                journal.append(JournalReplayScenarios.record(longPath + i)); // 160 KB: past two 64 KiB segments
            }
            journal.awaitDurable(first); // its segment was forced as it was sealed; this forces the current one
            assertEquals(1, journal.forces());
            assertTrue(journal.failure().isEmpty(), journal.failure().toString());
        }
        assertEquals(40, readBack().size());
    }

    @Test
    void withoutFsyncNothingIsForced() throws Exception {
        try (AccessJournal journal = open(false, StoreConfig.DEFAULT_JOURNAL_SEGMENT_BYTES)) {
            journal.awaitDurable(journal.append(JournalReplayScenarios.record("/a")));
            assertEquals(0, journal.forces());
        }
    }

    /** Sixteen threads appending and waiting at once, as request threads do: every record is read back once. */
    @Test
    void concurrentAppendersWithFsyncLeaveEveryRecordInOrderOnDisk() throws Exception {
        int threads = 16;
        int each = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (AccessJournal journal = open(true, StoreConfig.MIN_JOURNAL_SEGMENT_BYTES)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        journal.awaitDurable(journal.append(JournalReplayScenarios.record("/" + thread + "/" + i)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
            assertTrue(journal.failure().isEmpty(), journal.failure().toString());
            System.out.printf("%d records appended by %d threads with fsync: %d fdatasyncs%n", threads * each,
                    threads, journal.forces());
        } finally {
            pool.shutdownNow();
        }
        List<JournaledRecord> back = readBack();
        assertEquals(threads * each, back.size());
        for (int i = 0; i < back.size(); i++) {
            assertEquals(i + 1, back.get(i).seq(), "numbers in order, none missing or twice");
        }
        assertEquals(threads * each, back.stream().map(r -> r.record().path()).distinct().count());
    }

    private AccessJournal open(boolean fsync, int segmentBytes) throws Exception {
        return AccessJournal.open(dir, segmentBytes, fsync, 0, AccessJournal.Replay.none());
    }

    /** What a start finds in the journal's files. */
    private List<JournaledRecord> readBack() throws Exception {
        List<JournaledRecord> found = new ArrayList<>();
        AccessJournal.open(dir, StoreConfig.DEFAULT_JOURNAL_SEGMENT_BYTES, false, 0,
                (journal, records) -> found.addAll(records)).close();
        return found;
    }
}
