package dev.tollgate.store;

import dev.tollgate.store.internal.JournalCodec;
import dev.tollgate.store.internal.JournalCursor;
import dev.tollgate.store.internal.JournalSegment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The node's audit journal: every access record is appended here, on the request path, before the client gets
 * the end of its answer, so that a process that dies (kill -9, a crash) loses no record its client has seen.
 * The database store reads it back: in steady state from memory (the writer's queue carries what was just
 * appended), after a crash from these files (see {@link AccessLog#open}).
 * <p>
 * Files {@code <stateDir>/journal/<first seq>.journal}, each up to {@code segmentBytes}: frames of length,
 * CRC32C and record ({@link JournalCodec}), numbered by a sequence that goes on across restarts (the last one
 * found here, or in the database, plus one). An append is one copy of the frame into a shared memory map of the
 * segment, that is into the page cache, under one lock, nothing more: the kernel holds the record from then on,
 * whatever becomes of the process ({@link JournalSegment}). With
 * {@code fsync}, {@link #awaitDurable} then forces it to the disk (power loss) outside that lock, in groups: one
 * fdatasync covers every record appended before it started, so threads that append while one forces share the
 * next one (group commit) instead of queueing one fdatasync each behind the lock. A segment is deleted once
 * each of its records has been stored (or, with {@code onOverflow: forward}, given up), except the one being
 * appended to, and once every {@link JournalReader} that holds has delivered it (a push sink). The next start
 * numbers on from the highest number found in the segments left or in the database.
 * <p>
 * When a write fails (a full disk) the append reports it and the record goes on to the database from memory
 * only, as before the journal: the next append starts a new segment, so that a frame cut short by the failure is
 * never followed by good ones in the same file.
 */
public final class AccessJournal implements AutoCloseable {

    public static final String DIRECTORY = "journal";
    private static final Logger LOG = LoggerFactory.getLogger(AccessJournal.class);

    private final Path dir;
    private final int segmentBytes;
    private final boolean fsync;
    private final ReentrantLock appendLock = new ReentrantLock();
    // Guarded by appendLock: the frame buffer, its checksum, the segment appended to and the next number.
    private final ByteBuffer frame = ByteBuffer.allocateDirect(JournalCodec.MAX_FRAME_BYTES);
    private final CRC32C crc = new CRC32C();
    private JournalSegment current;
    // Written under appendLock; volatile for heldByBlockingReaders, which reads it on every append without the lock.
    private volatile long nextSeq;
    private final ConcurrentSkipListMap<Long, JournalSegment> live = new ConcurrentSkipListMap<>();
    private final AtomicLong appended = new AtomicLong();
    private final AtomicLong released = new AtomicLong();
    private volatile String failure;
    private volatile boolean closed;
    // Group commit (fsync only): one thread at a time (the one that set syncing) forces the segment appended to,
    // the others wait on syncMonitor; every number below durableBelow is on the disk.
    private final Object syncMonitor = new Object();
    private boolean syncing;
    private volatile long durableBelow;
    private final AtomicLong forces = new AtomicLong();
    // The read-back cursor (readBack), used by the writer thread alone.
    private final JournalCursor cursor;
    // The other readers (push sinks), by name; fixed once open.
    private final Map<String, JournalReader> readers = new LinkedHashMap<>();
    private final List<JournalReader> blockingReaders = new ArrayList<>();

    private AccessJournal(Path dir, int segmentBytes, boolean fsync) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.fsync = fsync;
        this.cursor = new JournalCursor(dir, live);
    }

    /**
     * Opens the journal in {@code dir} (made if missing), reading back every record its segments hold, one
     * segment at a time (so that memory holds one segment's records at most): they are the records that may not be
     * stored yet, which {@code replay} stores (again: storing is idempotent) and {@link #release}s. A torn or
     * corrupt record ends its segment's records; it and what follows it in that file are dropped with a WARN. New
     * records are numbered from past the highest of what was found and of {@code seqFloor} (the highest number the
     * database already holds).
     */
    public static AccessJournal open(Path dir, int segmentBytes, boolean fsync, long seqFloor, Replay replay)
            throws IOException, SQLException {
        return open(dir, segmentBytes, fsync, seqFloor, List.of(), replay);
    }

    /**
     * As {@link #open(Path, int, boolean, long, Replay)}, with {@code readers} besides the database's writer, each at
     * the position it committed in an earlier run: the segments they still need are kept through the replay, and
     * {@link #reader} hands each one out.
     */
    public static AccessJournal open(Path dir, int segmentBytes, boolean fsync, long seqFloor,
                                     List<JournalReader.Start> readers, Replay replay) throws IOException, SQLException {
        // The daemon's user alone: a segment holds every column of every row, and a record written into it by
        // someone else would be stored at the next start (docs/security.md).
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                "rwx------")));
        AccessJournal journal = new AccessJournal(dir, segmentBytes, fsync);
        for (JournalReader.Start start : readers) {
            JournalReader reader = new JournalReader(start, journal, new JournalCursor(dir, journal.live));
            if (journal.readers.putIfAbsent(start.name(), reader) != null) {
                throw new IllegalArgumentException("journal reader " + start.name() + " given twice");
            }
            if (start.blocksWhenFull()) {
                journal.blockingReaders.add(reader);
            }
        }
        long recovered = 0;
        long last = seqFloor;
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.filter(JournalSegment::isSegmentFile).sorted().toList();
        }
        for (int i = 0; i < files.size(); i++) {
            List<JournaledRecord> records = new ArrayList<>();
            JournalSegment segment = JournalSegment.recover(files.get(i), records);
            if (segment.records() == 0) {
                Files.deleteIfExists(files.get(i));
                continue;
            }
            journal.live.put(segment.firstSeq(), segment);
            journal.appended.addAndGet(segment.records());
            if (i == files.size() - 1 && segment.lastSeq() >= last) {
                // The newest segment is appended to again rather than deleted once replayed: its records stay on
                // disk until it fills, and each start checks them against the database once more.
                segment.reopenForAppend(segmentBytes);
                journal.current = segment;
            }
            last = Math.max(last, segment.lastSeq());
            recovered += records.size();
            replay.replay(journal, records);
        }
        journal.nextSeq = last + 1;
        for (JournalReader reader : journal.readers.values()) {
            reader.startAt(journal.nextSeq - 1);
        }
        journal.readerMoved(); // segments no reader needs any more (a reader removed from the configuration)
        if (recovered > 0) {
            LOG.info("journal {} - {} records read back from {} files, numbering goes on from {}", dir, recovered,
                    files.size(), journal.nextSeq);
        }
        return journal;
    }

    /** What {@link #open} hands the records of each segment it reads back to. */
    @FunctionalInterface
    public interface Replay {

        /** Stores those of {@code records} the database lacks and releases each of them in {@code journal}. */
        void replay(AccessJournal journal, List<JournaledRecord> records) throws SQLException;

        /** Stores nothing and releases nothing: for a tool that only appends. */
        static Replay none() {
            return (journal, records) -> { };
        }
    }

    /**
     * Appends {@code r} and returns its sequence number. On return the record is in the kernel's hands (and, with
     * fsync, on the disk once {@link #awaitDurable} returns for it); when the write fails the number is handed out
     * all the same, {@link #failure()} says why, and the record lives in memory only.
     */
    public long append(AccessRecord r) {
        appendLock.lock();
        try {
            long seq = nextSeq++;
            appended.incrementAndGet();
            if (closed) {
                return seq;
            }
            try {
                JournalCodec.encode(seq, r, frame, crc);
                if (current == null || !current.fits(frame.remaining())) {
                    roll(seq);
                }
                current.write(frame, seq);
                if (failure != null) {
                    LOG.info("journal {} - writing again", dir);
                    failure = null;
                }
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    LOG.warn("journal {} - cannot write (records stay in memory until stored): {}", dir, e.toString());
                }
                failure = "writing the journal " + dir + " failed: " + AccessLogWriter.rootCause(e);
                abandonCurrent();
            }
            return seq;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * With {@code fsync}, returns once the record numbered {@code seq} is on the disk (at once without it). Called
     * after {@link #append}, outside every lock a caller holds to keep appends in order: the thread that finds no
     * fdatasync running starts one that covers everything appended so far, and the threads that appended meanwhile
     * wait for it and then, at most, for one more, which the first of them to wake starts. An interrupt does not
     * end the wait (the answer must not complete before its record is on the disk); it is restored on return. A segment sealed meanwhile was forced when it was sealed. A
     * failing fdatasync is logged and reported by {@link #failure()}; the record stays in the page cache and on its
     * way to the database.
     */
    public void awaitDurable(long seq) {
        if (!fsync || seq < durableBelow) {
            return;
        }
        boolean interrupted = false;
        synchronized (syncMonitor) {
            while (seq >= durableBelow) {
                if (!syncing) {
                    syncing = true;
                    break; // this thread forces the next group
                }
                try {
                    syncMonitor.wait();
                } catch (InterruptedException e) {
                    interrupted = true; // the record must be on the disk before the answer completes: wait on
                }
            }
        }
        if (seq >= durableBelow) {
            forceGroup();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Forces everything appended so far, publishes how far that reaches and wakes every waiting thread at once:
     * those it covers return, and one of the others starts the next group.
     */
    private void forceGroup() {
        long below = durableBelow;
        try {
            JournalSegment target;
            appendLock.lock();
            try {
                target = current;
                below = nextSeq;
            } finally {
                appendLock.unlock();
            }
            if (target != null) {
                try {
                    target.force();
                    forces.incrementAndGet();
                } catch (ClosedChannelException sealedMeanwhile) {
                    // Forced as it was sealed (or the journal is closing): nothing of it is left unforced.
                } catch (IOException e) {
                    LOG.warn("journal {} - cannot force it to the disk: {}", dir, e.toString());
                    failure = "forcing the journal " + dir + " to the disk failed: " + AccessLogWriter.rootCause(e);
                }
            }
        } finally {
            synchronized (syncMonitor) {
                durableBelow = Math.max(durableBelow, below);
                syncing = false;
                syncMonitor.notifyAll();
            }
        }
    }

    /**
     * Called when the record numbered {@code seq} is stored, or will never be (rejected by the database, or
     * dropped by the {@code forward} overflow policy): a segment whose records are all released is deleted,
     * unless it is the one being appended to.
     */
    public void release(long seq) {
        released.incrementAndGet();
        Map.Entry<Long, JournalSegment> entry = live.floorEntry(seq);
        if (entry != null && entry.getValue().release(seq)) {
            deleteUnlessHeld(entry.getValue());
        }
    }

    /** The reader named {@code name}, given to {@link #open}; empty if none was. */
    public Optional<JournalReader> reader(String name) {
        return Optional.ofNullable(readers.get(name));
    }

    /**
     * Whether a reader with the {@code block} policy has records still to deliver: then appends wait, as for the
     * database, once the journal holds {@code store.journalMaxBytes}.
     */
    public boolean heldByBlockingReaders() {
        if (blockingReaders.isEmpty()) {
            return false;
        }
        long last = nextSeq - 1; // not nextSeq(): this runs on every append, and appendLock is the appends' own lock
        for (JournalReader reader : blockingReaders) {
            if (reader.holds(last)) {
                return true;
            }
        }
        return false;
    }

    /** A reader committed: deletes the segments that every reader has delivered and the database has stored. */
    void readerMoved() {
        for (JournalSegment segment : live.values()) {
            if (!segment.isReleased()) {
                continue;
            }
            if (isHeld(segment)) {
                return; // readers move forward: the segments after it are held too
            }
            delete(segment);
        }
    }

    /** The number the next append will hand out: every record below it has been appended (or failed to be). */
    public long nextSeq() {
        appendLock.lock();
        try {
            return nextSeq;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Reads back up to {@code max} records numbered {@code fromSeq} or above, in order, from the segments, into
     * {@code into}; returns how many it added (0 when it has reached the end of what is written). For one reader,
     * the writer storing what waited here while the database was slow or down: it keeps its place between calls
     * (a segment and a byte offset), so reading on from where the last call ended costs no rescan. Numbers whose
     * append failed are not there (their records live in memory). A frame that fails its checksum ends its
     * segment's read-back, with an ERROR: the rest of that file is skipped.
     */
    public int readBack(long fromSeq, int max, List<JournaledRecord> into) throws IOException {
        return cursor.read(fromSeq, max, into);
    }

    /** Records appended (or read back at open) and not yet released: the journal's depth. */
    public long depthRecords() {
        return Math.max(0, appended.get() - released.get());
    }

    /**
     * The fdatasyncs {@link #awaitDurable} has run (with {@code fsync}; those that seal a segment are not counted):
     * against the records appended, how well the groups form.
     */
    public long forces() {
        return forces.get();
    }

    /** Bytes of the segments still on disk. */
    public long depthBytes() {
        long bytes = 0;
        for (JournalSegment segment : live.values()) {
            bytes += segment.bytes();
        }
        return bytes;
    }

    /** Whether the last append failed: the next one tries again. */
    public boolean isFailing() {
        return failure != null;
    }

    /** Why appending fails right now, or empty while it works. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** The directory of the segments. */
    public Path directory() {
        return dir;
    }

    /** Closes the segment being appended to; it stays on disk. Later appends are numbered, not written. */
    @Override
    public void close() {
        appendLock.lock();
        try {
            closed = true;
            if (current != null) {
                current.closeChannel();
            }
        } finally {
            appendLock.unlock();
        }
    }

    /** Starts a new segment at {@code seq}; the one before is sealed and deleted if all of it is released. */
    private void roll(long seq) throws IOException {
        abandonCurrent();
        JournalSegment next = JournalSegment.create(dir, seq, segmentBytes, fsync);
        live.put(seq, next);
        current = next;
    }

    /** Stops appending to the current segment: sealed, and deleted if all of it is released. */
    private void abandonCurrent() {
        JournalSegment previous = current;
        current = null;
        if (previous != null && previous.seal(fsync)) {
            deleteUnlessHeld(previous);
        }
    }

    private void deleteUnlessHeld(JournalSegment segment) {
        if (!isHeld(segment)) {
            delete(segment);
        }
    }

    /** Whether a reader still needs a record of {@code segment}. */
    private boolean isHeld(JournalSegment segment) {
        for (JournalReader reader : readers.values()) {
            if (reader.holds(segment.lastSeq())) {
                return true;
            }
        }
        return false;
    }

    private void delete(JournalSegment segment) {
        if (!segment.markDeleted()) {
            return;
        }
        live.remove(segment.firstSeq(), segment);
        try {
            segment.closeChannel();
            Files.deleteIfExists(segment.file());
        } catch (IOException e) {
            LOG.warn("journal {} - cannot delete {}: {}", dir, segment.file(), e.toString());
        }
    }
}
