package dev.tollgate.store;

import dev.tollgate.store.internal.JournalCursor;

import java.io.IOException;
import java.util.List;

/**
 * One more reader of the audit journal beside the database's writer, with a committed position of its own: a push
 * sink (syslog, OTLP, a file) that sends every record on from the journal. While it holds (see
 * {@link #blocksWhenFull()} and {@link #stopHolding}), the journal keeps every segment that has a record numbered
 * above {@link #delivered()}, whether or not the database has stored it, so a sink whose receiver is down loses
 * nothing; those segments count in {@link AccessJournal#depthBytes()} and so in {@code store.journalMaxBytes}.
 * <p>
 * The position is the caller's to keep across restarts (the daemon writes it to a file after each delivery): it
 * is handed back to {@link AccessJournal#open} as a {@link Start}, before the journal deletes anything. Reads may
 * run beside appends: a segment's length is published after its frame is copied, so a read never meets half a
 * frame. One thread reads and commits.
 */
public final class JournalReader {

    /**
     * A reader as the journal should know it when it opens.
     *
     * @param name              the reader's name (a sink's), unique among the journal's readers
     * @param deliveredThrough  the highest number it has delivered, every one below it too; {@link #FROM_NOW} for a
     *                          reader that starts with the records appended after the journal opens
     * @param blocksWhenFull    whether appends wait for it once the journal holds {@code store.journalMaxBytes}
     *                          (the {@code block} policy); else its caller gives records up when it falls that far
     *                          behind ({@link #stopHolding})
     */
    public record Start(String name, long deliveredThrough, boolean blocksWhenFull) {

        /** For a reader that has delivered nothing yet: it starts after the records the journal holds at open. */
        public static final long FROM_NOW = -1;
    }

    private final String name;
    private final boolean blocksWhenFull;
    private final AccessJournal journal;
    private final JournalCursor cursor;
    // Written by the reader's thread, read by appends and deletes.
    private volatile long delivered;

    JournalReader(Start start, AccessJournal journal, JournalCursor cursor) {
        this.name = start.name();
        this.blocksWhenFull = start.blocksWhenFull();
        this.journal = journal;
        this.cursor = cursor;
        // Until the journal has opened and numbered on, a new reader holds nothing (see AccessJournal.open).
        this.delivered = start.deliveredThrough() == Start.FROM_NOW ? Long.MAX_VALUE : start.deliveredThrough();
    }

    /** Where a new reader starts, once the journal knows its next number. */
    void startAt(long deliveredThrough) {
        if (delivered == Long.MAX_VALUE) {
            delivered = deliveredThrough;
        }
    }

    /** The reader's name. */
    public String name() {
        return name;
    }

    /** Whether appends wait for this reader when the journal is full. */
    public boolean blocksWhenFull() {
        return blocksWhenFull;
    }

    /**
     * Reads up to {@code max} records numbered {@code fromSeq} or above, in order, into {@code into}; returns how
     * many it added (0 when it has caught up with the appends). A record whose number is missing (its append failed,
     * or its segment was deleted while this reader did not hold it) is simply not there: the caller sees the gap in
     * the numbers.
     */
    public int read(long fromSeq, int max, List<JournaledRecord> into) throws IOException {
        return cursor.read(fromSeq, max, into);
    }

    /**
     * Commits every record numbered up to {@code seq} as delivered: the segments wholly at or below it may go
     * (once the database has stored them too).
     */
    public void commit(long seq) {
        if (seq > delivered || delivered == Long.MAX_VALUE) {
            delivered = seq;
            journal.readerMoved();
        }
    }

    /**
     * Gives up the records after {@link #delivered()} up to {@code seq}: the {@code drop} policy of a sink that
     * fell {@code store.journalMaxBytes} behind. They are not delivered, and the journal no longer keeps them for
     * this reader.
     */
    public void stopHolding(long seq) {
        commit(seq);
    }

    /** The highest number delivered (every one below it too). */
    public long delivered() {
        return delivered;
    }

    /** The number the journal hands out next: records from {@code delivered() + 1} below it are pending. */
    public long nextSeq() {
        return journal.nextSeq();
    }

    /** Whether this reader keeps {@code seq} in the journal. */
    boolean holds(long seq) {
        return seq > delivered;
    }
}
