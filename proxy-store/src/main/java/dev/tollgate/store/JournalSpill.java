package dev.tollgate.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writer's outage state: while the database is slow or down and the queue is full, records stay in the
 * journal alone ("spilling", docs/access-log.md, "Outages ride on disk") and the writer thread reads them back
 * from there, in journal order, once it has stored what the queue held. Started by a request thread under the
 * writer's journal-order lock; read back and ended by the writer thread alone.
 */
final class JournalSpill {

    private static final Logger LOG = LoggerFactory.getLogger(JournalSpill.class);

    private final String name;
    private final AccessJournal journal;
    private final int batchSize;
    private final ReentrantLock inJournalOrder;
    // Whether records are left in the journal for the writer to read back: set under inJournalOrder, ended by the
    // writer once it has read everything appended.
    private volatile boolean on;
    // Guarded by inJournalOrder while on: records whose journal append failed (a full disk) meanwhile, held in
    // memory, in order, for the read-back to merge at their numbers.
    private final ConcurrentSkipListMap<Long, AccessRecord> unwritten = new ConcurrentSkipListMap<>();
    // The writer thread's: the first number not yet read back.
    private long readBackFrom;

    JournalSpill(String name, AccessJournal journal, int batchSize, ReentrantLock inJournalOrder) {
        this.name = name;
        this.journal = journal;
        this.batchSize = batchSize;
        this.inJournalOrder = inJournalOrder;
    }

    boolean isOn() {
        return on;
    }

    /** Starts spilling at the record numbered {@code seq}; the caller holds the journal-order lock. */
    void start(long seq) {
        readBackFrom = seq;
        on = true;
    }

    /** Records held in memory because their append failed while spilling. */
    int held() {
        return unwritten.size();
    }

    /** Holds {@code r}, whose append failed, at its number; the caller holds the journal-order lock. */
    void hold(long seq, AccessRecord r) {
        unwritten.put(seq, r);
    }

    /**
     * Reads the next records that wait in the journal into {@code batch}, in journal order, with those held in
     * memory merged in at their numbers. The writer thread's.
     */
    void readBack(List<JournaledRecord> batch) throws IOException {
        journal.readBack(readBackFrom, batchSize, batch);
        long limit = batch.size() >= batchSize ? batch.get(batch.size() - 1).seq() : Long.MAX_VALUE;
        boolean merged = false;
        for (Map.Entry<Long, AccessRecord> held = unwritten.firstEntry(); held != null && held.getKey() <= limit;
             held = unwritten.firstEntry()) {
            unwritten.remove(held.getKey());
            batch.add(new JournaledRecord(held.getKey(), held.getValue()));
            merged = true;
        }
        if (merged) {
            batch.sort(Comparator.comparingLong(JournaledRecord::seq));
        }
        if (!batch.isEmpty()) {
            readBackFrom = batch.get(batch.size() - 1).seq() + 1;
        }
    }

    /**
     * Ends spilling once everything appended has been read back: under the journal-order lock, so that no append
     * comes in between; but without waiting for it (an append may hold it while it waits for the journal to have
     * room, which only the writer thread makes). Returns whether spilling has ended. The writer thread's.
     */
    boolean tryEnd() {
        if (!inJournalOrder.tryLock()) {
            return false;
        }
        try {
            if (readBackFrom < journal.nextSeq() || !unwritten.isEmpty()) {
                return false;
            }
            on = false;
            LOG.info("{} - access-log writer caught up with the journal: records queue again", name);
            return true;
        } finally {
            inJournalOrder.unlock();
        }
    }
}
