package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogInserter;
import dev.tollgate.store.internal.ChainHead;
import dev.tollgate.store.internal.DatabaseUrl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * Hands access records from request threads to the database: each is appended to the node's
 * {@link AccessJournal} (on the request thread, which the kill -9 guarantee needs) and queued in the same step,
 * under one lock, so that the queue holds records in journal order: a bounded queue in front of one background
 * thread ({@value #THREAD_NAME}) that inserts them in JDBC batches on its own connection, one commit per
 * batch. A batch is written when it holds {@code batchSize} records, when {@code flushIntervalMs} has passed
 * since its first record's request ended, or when someone calls {@link #flush}.
 * <p>
 * Nothing accepted is dropped: a batch that fails stays in hand and is retried, after a backoff of
 * {@value #MIN_BACKOFF_MS} ms doubling to {@value #MAX_BACKOFF_MS} ms, on a fresh connection, until it is
 * stored, while the full queue makes {@link #append} wait. The one exception is a row the database refuses
 * as bad data (SQLSTATE class 22 or 23), which no retry could store: it is logged at ERROR with its content
 * and counted in {@link #failed()}, and the rest of its batch is stored.
 * <p>
 * The queue carries each record with its journal number, and the writer releases the number in the journal once
 * the record is stored: the journal is what a restart after a crash stores again, the queue spares the writer
 * reading back what was just written. Because the queue is in journal order, rows are stored in that order, and
 * the highest number stored tells a restart which of the journal's records the database has: all of those at or
 * below it (see {@link AccessLog#open}). That is what lets H2 go without an index on the number.
 * <p>
 * Why one class of about 590 lines: its two sides, the request threads' (append, offer, the wait for room) and
 * the writer thread's (gather, insert, flush, close), meet in the journal-order lock, the queue, the count of
 * producers handing over and the close's latches; a split between them would pass those around between classes.
 * What stands on its own is out already: the outage's read-back ({@link JournalSpill}), the insert
 * ({@code AccessLogInserter}) and the journal's cursor.
 */
public final class AccessLogWriter implements AutoCloseable {

    public static final String THREAD_NAME = "tollgate-access-writer";
    public static final long DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
    static final long MIN_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(AccessLogWriter.class);
    // How often an idle writer, and a producer waiting on a full queue, look up from their wait.
    private static final long IDLE_POLL_MS = 1_000;
    private static final long FULL_QUEUE_RECHECK_MS = 100;
    // How often an offer waiting for the journal-order lock looks whether the queue has filled meanwhile.
    private static final long LOCK_RECHECK_MS = 1;
    // How often a writer gathering a batch looks for more records (see gather).
    private static final long GATHER_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final int MAX_CAUSE_DEPTH = 32;

    private final String name;
    private final int batchSize;
    private final int queueCapacity;
    private final long flushIntervalNanos;
    private final long closeTimeoutMs;
    private final AccessLogInserter inserter;
    private final AccessJournal journal;
    // JournaledRecords, and FlushMarkers that ask the writer to store what it has and report back.
    private final BlockingQueue<Object> queue;
    private final Thread thread;
    // Producers between their check of `closed` and the end of their put: the writer waits for them to land.
    private final AtomicInteger handingOver = new AtomicInteger();
    // Held from a record's journal append to its place in the queue (or in the journal alone): records reach the
    // database in journal order.
    private final ReentrantLock inJournalOrder = new ReentrantLock();
    private final long journalMaxBytes;
    // Records left in the journal for the writer to read back while the queue is full.
    private final JournalSpill spill;
    private final CountDownLatch abandoned = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;
    private volatile int inHand;
    private volatile JournaledRecord oldestInHand;
    // Why storing fails right now, or null while it works: what health reports as DEGRADED.
    private volatile String failure;
    // Written and read by the writer thread only.
    private Instant failingSince;

    private AccessLogWriter(String name, DataSource dataSource, DatabaseUrl.Vendor vendor, AccessJournal journal,
                            StoreConfig config, long closeTimeoutMs) {
        this.name = name;
        this.batchSize = config.batchSize();
        this.queueCapacity = config.queueCapacity();
        this.flushIntervalNanos = TimeUnit.MILLISECONDS.toNanos(config.flushIntervalMs());
        this.closeTimeoutMs = closeTimeoutMs;
        this.journal = journal;
        this.journalMaxBytes = config.journalMaxBytes();
        this.inserter = new AccessLogInserter(dataSource, vendor, journal::release);
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.spill = new JournalSpill(name, journal, batchSize, inJournalOrder);
        this.thread = new Thread(this::run, THREAD_NAME);
        // Daemon: a writer that close() gave up on must not keep the JVM alive.
        thread.setDaemon(true);
    }

    /** Starts a writer; {@code name} prefixes its log lines. The table must exist. */
    static AccessLogWriter start(String name, DataSource dataSource, DatabaseUrl.Vendor vendor, AccessJournal journal,
                                 StoreConfig config, long closeTimeoutMs) {
        AccessLogWriter writer = new AccessLogWriter(name, dataSource, vendor, journal, config, closeTimeoutMs);
        writer.thread.start();
        return writer;
    }

    /**
     * Appends {@code r} to the journal and queues it for writing; returns its journal number. On return a crash
     * cannot lose it (with {@code store.fsync}, nor a power loss: the journal forces it in a group). When the queue is full (the database is slow or down) the record stays in the journal alone,
     * on disk, and the writer reads it back once it has stored what the queue holds; only when the journal holds
     * {@code store.journalMaxBytes} as well does this wait for room (the {@code block} overflow policy: the audit
     * trail stays complete and the proxy slows down). Records are stored in journal order, so that wait holds up
     * every other record's append too. An interrupt does not end the wait, because the record would be lost; the
     * thread's interrupt status is restored on return.
     *
     * @throws IllegalStateException once {@link #close()} has been called
     */
    public long append(AccessRecord r) {
        Objects.requireNonNull(r, "r");
        handingOver.incrementAndGet();
        long seq;
        inJournalOrder.lock();
        try {
            checkOpen();
            seq = place(r, true);
        } finally {
            inJournalOrder.unlock();
            handingOver.decrementAndGet();
        }
        journal.awaitDurable(seq);
        return seq;
    }

    /**
     * Appends {@code r} to the journal and queues it for writing, or leaves it in the journal alone while the
     * queue is full, as {@link #append} does; but where that would wait, turns the record away (the {@code drop}
     * overflow policy): it is not journaled, and not stored. Does not wait behind an {@link #append} that waits.
     *
     * @return false, without waiting for room, when there is none (see {@link #isFull()})
     * @throws IllegalStateException once {@link #close()} has been called
     */
    public boolean offer(AccessRecord r) {
        Objects.requireNonNull(r, "r");
        handingOver.incrementAndGet();
        try {
            if (!lockUnlessFull()) {
                dropped.increment();
                return false;
            }
            long seq;
            try {
                checkOpen();
                seq = place(r, false);
            } finally {
                inJournalOrder.unlock();
            }
            if (seq < 0) {
                dropped.increment();
                return false;
            }
            journal.awaitDurable(seq);
            return true;
        } finally {
            handingOver.decrementAndGet();
        }
    }

    /**
     * Journals {@code r} and gives it its way to the database, under {@link #inJournalOrder}: the queue while it
     * has room and nothing waits in the journal; else the journal alone (spilling), up to its size limit; a record
     * whose append failed goes to the queue as before the journal, or, while spilling, is held by the spill. Where
     * there is no room: waits when {@code wait}, else returns -1 with nothing journaled.
     */
    private long place(AccessRecord r, boolean wait) {
        boolean interrupted = false;
        try {
            while (true) {
                if ((spill.isOn() || journal.heldByBlockingReaders()) && journal.depthBytes() >= journalMaxBytes) {
                    if (!wait) {
                        return -1;
                    }
                    interrupted |= pauseForRoom();
                    continue;
                }
                // The common case costs the append and one offer: no look at the queue's capacity before.
                long seq = journal.append(r);
                boolean onDisk = !journal.isFailing();
                JournaledRecord entry = new JournaledRecord(seq, r);
                if (!spill.isOn() && queue.offer(entry)) {
                    return seq;
                }
                if (onDisk) {
                    if (!spill.isOn()) {
                        spill.start(seq);
                        LOG.warn("{} - access-log queue full ({} records): records wait in the journal on disk (up to"
                                + " {} bytes) until the database takes them", name, queueCapacity, journalMaxBytes);
                    }
                    return seq;
                }
                if (spill.isOn()) {
                    // Its append failed: held in memory at its number, up to as many records as the queue holds.
                    while (spill.held() >= queueCapacity) {
                        if (!wait) {
                            journal.release(seq);
                            return -1;
                        }
                        interrupted |= pauseForRoom();
                    }
                    spill.hold(seq, r);
                    return seq;
                }
                // Neither the queue nor the disk has room: wait for the queue, as before the journal.
                while (!queue.offer(entry)) {
                    if (!wait) {
                        journal.release(seq);
                        return -1;
                    }
                    interrupted |= pauseForRoom();
                }
                return seq;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits a moment for the writer to make room; returns whether an interrupt came meanwhile. */
    private boolean pauseForRoom() {
        if (abandoned.getCount() == 0) {
            throw new IllegalStateException(name + " - access-log writer gave up while closing");
        }
        try {
            abandoned.await(FULL_QUEUE_RECHECK_MS, TimeUnit.MILLISECONDS);
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }

    /**
     * Takes the journal-order lock, or gives up when there is no room: the lock may then be held by an
     * {@link #append} waiting for room, and an offer would find none either.
     */
    private boolean lockUnlessFull() {
        boolean interrupted = false;
        try {
            while (!isFull()) {
                try {
                    if (inJournalOrder.tryLock(LOCK_RECHECK_MS, TimeUnit.MILLISECONDS)) {
                        return true;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return false;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits until every record appended before this call is stored (or rejected, see {@link #failed()}),
     * asking the writer to write its batch now rather than when it is full or due.
     *
     * @return true when they are, false when {@code timeoutMs} ran out first (a database that is down, or a
     *         queue too full to take the request in time)
     */
    public boolean flush(long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMs));
        FlushMarker marker = new FlushMarker();
        boolean queued;
        handingOver.incrementAndGet();
        try {
            // When closed, closing stores everything queued: wait for the writer to stop instead, after
            // leaving handingOver, which the writer waits to see at 0 before it stops.
            queued = !closed && queue.offer(marker, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            handingOver.decrementAndGet();
        }
        if (queued) {
            return await(marker.done, deadline);
        }
        return closed && await(stopped, deadline) && abandoned.getCount() > 0;
    }

    /** The journal every record goes through. */
    public AccessJournal journal() {
        return journal;
    }

    /**
     * How long the oldest record not yet stored has waited since it was handed over (the end of its request), in
     * ms, or 0 when none waits: the batch in hand, else the head of the queue.
     */
    public long oldestUnstoredAgeMs() {
        JournaledRecord oldest = oldestInHand;
        if (oldest == null) {
            Object head = queue.peek();
            oldest = head instanceof JournaledRecord entry ? entry : null;
        }
        if (oldest == null) {
            return 0;
        }
        return Math.max(0, System.currentTimeMillis() - (oldest.record().tsMs() + oldest.record().durationMs()));
    }

    /** Entries in the queue now: the records waiting for the writer (a pending flush counts as one). */
    public int queueDepth() {
        return queue.size();
    }

    /**
     * The newest row the writer committed and its chain as the writer computed it (what a checkpoint signs), or null
     * before its first commit.
     */
    public ChainHead committedHead() {
        return inserter.committed();
    }

    /** Records stored so far. */
    public long written() {
        return inserter.written();
    }

    /** Records the database refused as bad data; each was logged at ERROR with its content. */
    public long failed() {
        return inserter.rejected();
    }

    /** Records {@link #offer} turned away because the queue was full. */
    public long dropped() {
        return dropped.sum();
    }

    /**
     * Whether there is no room now: the queue full or records waiting in the journal, and the journal at
     * {@code store.journalMaxBytes} (or unwritable, with as many records held in memory as the queue holds). A new
     * record would wait ({@link #append}) or be turned away ({@link #offer}).
     */
    public boolean isFull() {
        boolean spilling = spill.isOn();
        if (journal.heldByBlockingReaders() && journal.depthBytes() >= journalMaxBytes) {
            return true; // a push sink with the block policy is that far behind
        }
        if (!spilling && queue.remainingCapacity() > 0) {
            return false;
        }
        if (journal.depthBytes() >= journalMaxBytes) {
            return true;
        }
        // The journal cannot be written (a full disk): records go on from memory, up to the queue's capacity.
        return journal.failure().isPresent() && (!spilling || spill.held() >= queueCapacity);
    }

    /** Whether records wait in the journal on disk for the writer to read them back (the queue filled up). */
    public boolean isSpilling() {
        return spill.isOn();
    }

    /**
     * Why storing records fails right now (they stay queued and are retried), or empty while it works.
     */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Stops taking records, stores every record already queued and waits for that, up to the close timeout
     * (30 s by default). If the database does not take them in time, logs a WARN with the number of records
     * left unstored and gives up on them. Calling it again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Wakes a writer waiting for its batch to fill; when the queue is full the writer is busy anyway.
        queue.offer(new FlushMarker());
        if (!await(stopped, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(closeTimeoutMs))) {
            long left = inHand + queue.stream().filter(JournaledRecord.class::isInstance).count();
            LOG.warn("{} - access-log writer gave up after {} ms with {} access records not stored", name,
                    closeTimeoutMs, left);
            abandoned.countDown();
        }
        LOG.info("{} - access-log writer closed: {} records written, {} failed", name, written(), failed());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name + " - access-log writer is closed");
        }
    }

    /**
     * The first line of the innermost cause: what an operator can act on ("No space left on device"), not the
     * driver's wrapper. A failed JDBC batch carries its failure as its next exception rather than its cause,
     * so where a SQLException has no cause the chain goes on through its next exception.
     */
    static String rootCause(Throwable t) {
        Throwable root = t;
        // Bounded: a driver's chain may loop back on itself.
        for (int depth = 0; depth < MAX_CAUSE_DEPTH; depth++) {
            Throwable next = root.getCause();
            if (next == null && root instanceof SQLException sql) {
                next = sql.getNextException();
            }
            if (next == null || next == root) {
                break;
            }
            root = next;
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message.lines().findFirst().orElse(message);
    }

    private void run() {
        LOG.info("{} - access-log writer started (batchSize {}, flushIntervalMs {}, queueCapacity {})", name,
                batchSize, TimeUnit.NANOSECONDS.toMillis(flushIntervalNanos), queueCapacity);
        List<JournaledRecord> batch = new ArrayList<>(batchSize);
        List<FlushMarker> flushes = new ArrayList<>();
        int failures = 0;
        try {
            while (abandoned.getCount() > 0) {
                try {
                    if (batch.isEmpty()) {
                        if (spill.isOn() && queue.isEmpty()) {
                            // What the queue held is stored: on to what waits in the journal, in order.
                            spill.readBack(batch);
                            if (!batch.isEmpty()) {
                                oldestInHand = batch.get(0);
                                inHand = batch.size();
                            } else if (!spill.tryEnd()) {
                                LockSupport.parkNanos(GATHER_TICK_NANOS);
                                continue;
                            }
                        } else if (flushes.isEmpty() || !queue.isEmpty()) {
                            if (drained()) {
                                break;
                            }
                            gather(batch, flushes);
                        }
                    }
                    if (!batch.isEmpty()) {
                        inserter.insert(batch);
                    }
                    inHand = 0;
                    oldestInHand = null;
                    if (!spill.isOn()) {
                        // A flush waits for what was appended before it, in the journal too.
                        flushes.forEach(f -> f.done.countDown());
                        flushes.clear();
                    }
                    if (failures > 0) {
                        LOG.info("{} - access-log writer storing again after {} failed attempts", name, failures);
                        failures = 0;
                        failure = null;
                    }
                } catch (Throwable t) {
                    // Everything, errors included: a writer thread that dies silently ends the audit trail.
                    // The batch stays in hand and is retried.
                    failures++;
                    inHand = batch.size();
                    if (failures == 1) {
                        failingSince = Instant.now();
                    }
                    failure = "storing access records has failed since " + failingSince + " (" + failures
                            + " attempts; " + queue.size() + " records queued): " + rootCause(t);
                    pauseAfterFailure(failures, batch.size(), t);
                }
            }
        } finally {
            inserter.close();
            stopped.countDown();
        }
    }

    /**
     * Takes records into {@code batch} until it is full, the flush interval has passed since its first record's
     * request ended, a flush marker arrives, or (when closing) the queue is empty. Returns with nothing after
     * an idle second.
     */
    private void gather(List<JournaledRecord> batch, List<FlushMarker> flushes) throws InterruptedException {
        Object next = queue.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS);
        long deadline = 0;
        while (next != null) {
            if (next instanceof FlushMarker marker) {
                flushes.add(marker);
                return;
            }
            JournaledRecord entry = (JournaledRecord) next;
            if (batch.isEmpty()) {
                deadline = System.nanoTime() + waitLeftNanos(entry.record());
                oldestInHand = entry;
            }
            batch.add(entry);
            inHand = batch.size();
            if (batch.size() >= batchSize) {
                return;
            }
            next = queue.poll();
            while (next == null && !closed) {
                long leftNanos = deadline - System.nanoTime();
                if (leftNanos <= 0) {
                    return;
                }
                // A nap, not a wait on the queue: a writer waiting there is woken by every record handed over,
                // which cost each request a futex wake-up and the writer a context switch per record. A record
                // now waits at most one tick longer, and never past the batch's deadline.
                LockSupport.parkNanos(Math.min(leftNanos, GATHER_TICK_NANOS));
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                next = queue.poll();
            }
        }
    }

    /**
     * How much longer the batch that {@code first} opens may wait for more records: the flush interval counted
     * from the end of {@code first}'s request, which is when it was handed over. Counted from when the writer
     * took it instead, a record that waited in the queue while the previous batch was being written would wait
     * that long again, and a writer behind its load would wait a whole interval per batch: both past the
     * interval that bounds what a kill -9 loses. Wall-clock time, as in the record; a clock stepped back cannot
     * make the wait longer than one interval.
     */
    private long waitLeftNanos(AccessRecord first) {
        long waitedMs = System.currentTimeMillis() - (first.tsMs() + first.durationMs());
        long leftNanos = flushIntervalNanos - TimeUnit.MILLISECONDS.toNanos(Math.max(0, waitedMs));
        return Math.max(0, leftNanos);
    }

    /**
     * Whether the writer may stop: closed, no producer still handing a record over, and nothing queued. The
     * order of the three reads matters: a producer that saw {@code closed} false is counted in
     * {@code handingOver} until its record is in the queue.
     */
    private boolean drained() {
        return closed && handingOver.get() == 0 && queue.isEmpty();
    }

    private void pauseAfterFailure(int failures, int records, Throwable t) {
        long backoffMs = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS << Math.min(failures - 1, 16));
        if (failures == 1) {
            LOG.warn("{} - storing {} access records failed; retrying every {} to {} ms until it works", name,
                    records, MIN_BACKOFF_MS, MAX_BACKOFF_MS, t);
        } else {
            LOG.warn("{} - storing {} access records failed again (attempt {}): {}", name, records, failures,
                    t.toString());
        }
        try {
            // Returns early only when close() gives up, which ends the loop.
            abandoned.await(backoffMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            // Nobody but close() stops the writer; an interrupt only cuts this pause short.
        }
    }

    /** Waits for {@code latch} until {@code deadlineNanos}; an interrupt ends the wait (and is kept). */
    private static boolean await(CountDownLatch latch, long deadlineNanos) {
        try {
            return latch.await(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return latch.getCount() == 0;
        }
    }

    /** A request, in the queue's order, to store everything before it and then count down. */
    private static final class FlushMarker {
        final CountDownLatch done = new CountDownLatch(1);
    }
}
