package dev.tollgate.daemon.sink;

import dev.tollgate.daemon.config.SinkConfig;
import dev.tollgate.store.AdminEventLog;
import dev.tollgate.store.JournalReader;
import dev.tollgate.store.JournaledRecord;
import dev.tollgate.store.RecordChain;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One sink's thread: reads the records after its position from the journal, a batch at a time, gives each its
 * number and chain value ({@link SinkEvent}), hands the batch to the transport, and only once the transport has
 * taken it saves the new position ({@link SinkPosition}) and commits it to the journal, which may then delete
 * what every reader has. A failed delivery is retried with the same batch (the same numbers and chain values)
 * after a backoff from {@value #FIRST_BACKOFF_MS} ms doubling to {@value #MAX_BACKOFF_MS} ms, for as long as it
 * takes; meanwhile the journal keeps the records, and with the {@code block} policy new requests wait once it
 * holds {@code store.journalMaxBytes}. With {@code drop}, the sink then gives up what it has not delivered
 * instead, and says so (ERROR, the {@code skipped} count, an alarm to the admin-event trail).
 * <p>
 * A number missing from the journal (an append that failed on a full disk: the record went to the database from
 * memory) is a gap the receiver sees; the pump counts it as {@code missing} and raises the same alarm, so that no
 * gap goes unexplained.
 */
final class SinkPump implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SinkPump.class);
    static final long FIRST_BACKOFF_MS = 250;
    static final long MAX_BACKOFF_MS = 30_000;
    /** How often an idle pump looks for new records (the most a record waits before it is sent). */
    static final long IDLE_POLL_MS = 50;
    /** How often a failing {@code drop} sink looks whether the journal is full. */
    static final long DROP_CHECK_MS = 100;
    /** How often the admin-event trail is looked at: operators' actions are rare. */
    static final long ADMIN_POLL_MS = 1_000;
    private static final HexFormat HEX = HexFormat.of();

    /** What {@link SinkPump#state} reports: UP, FAILING (delivery fails, retried), BEHIND (gave records up). */
    enum State { UP, FAILING, BEHIND, STOPPED }

    private final SinkConfig config;
    private final JournalReader reader;
    private final SinkTransport transport;
    private final BooleanSupplier journalFull;
    private final Consumer<String> alarm;
    private final AdminEvents adminEvents;
    private final RecordChain chain = new RecordChain();
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private volatile boolean closing;

    // The pump thread's own: what it read and has not delivered yet.
    private SinkPosition position;
    private final List<JournaledRecord> read = new ArrayList<>();
    private final List<SinkEvent> pending = new ArrayList<>();
    private long next;
    private byte[] head;
    private long backoffMs = FIRST_BACKOFF_MS;
    private long adminPolledNanos;

    // What status() reads.
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong missing = new AtomicLong();
    private volatile State state = State.UP;
    private volatile String reason;
    private volatile long oldestPendingTsMs;

    /** Where the node's admin events are read from, after a number. */
    @FunctionalInterface
    interface AdminEvents {
        List<AdminEventLog.Chained> after(long seq, int limit) throws SQLException;
    }

    /**
     * @param journalFull whether the journal holds {@code store.journalMaxBytes}: when a {@code drop} sink gives up
     * @param alarm       takes a one-line account of records given up or missing, for the admin-event trail
     * @param adminEvents the node's admin-event trail, sent on beside the records (polled every
     *                    {@value #ADMIN_POLL_MS} ms while no record waits)
     */
    SinkPump(SinkConfig config, JournalReader reader, SinkPosition position, SinkTransport transport,
             BooleanSupplier journalFull, Consumer<String> alarm, AdminEvents adminEvents) {
        this.adminEvents = adminEvents;
        this.config = config;
        this.reader = reader;
        this.position = position;
        this.transport = transport;
        this.journalFull = journalFull;
        this.alarm = alarm;
        this.next = reader.delivered() + 1;
        this.head = position.chain();
        this.thread = new Thread(this::run, "tollgate-sink-" + config.name());
        this.thread.setDaemon(true);
    }

    void start() {
        LOG.info("sink {} - delivering to {} from record {}", config.name(), transport.target(), next);
        thread.start();
    }

    /** Records appended and not yet delivered. */
    long lagRecords() {
        return Math.max(0, reader.nextSeq() - 1 - reader.delivered());
    }

    /** How old the oldest record read and not yet delivered is, in seconds (0 when none waits). */
    double lagSeconds() {
        long oldest = oldestPendingTsMs;
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    }

    SinkConfig config() {
        return config;
    }

    String target() {
        return transport.target();
    }

    State state() {
        return closing && !thread.isAlive() ? State.STOPPED : state;
    }

    /** Why it is not UP, or null. */
    String reason() {
        return reason;
    }

    long delivered() {
        return delivered.get();
    }

    /** Deliveries that failed and were tried again (a batch counts once per failure). */
    long retries() {
        return retries.get();
    }

    /** Records given up by the {@code drop} policy. */
    long skipped() {
        return skipped.get();
    }

    /** Numbers found missing from the journal. */
    long missing() {
        return missing.get();
    }

    /** The highest number delivered. */
    long position() {
        return reader.delivered();
    }

    /**
     * Waits until every record appended so far is delivered, or {@code timeoutMs} passes: a graceful stop gives
     * the receiver that long to take the last records (the rest waits in the journal for the next start).
     */
    boolean awaitCaughtUp(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long target = reader.nextSeq() - 1;
        while (reader.delivered() < target && state != State.FAILING) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return reader.delivered() >= target;
    }

    /** Stops the thread (a delivery in progress ends with the transport's timeout at most) and the transport. */
    @Override
    public void close() {
        closing = true;
        signal();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
            if (thread.isAlive()) {
                transport.close(); // breaks a delivery blocked on the network
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            transport.close();
        }
    }

    private void run() {
        while (!closing) {
            try {
                if (pending.isEmpty() && adminDue() && !deliverAdminEvents()) {
                    continue;
                }
                if (pending.isEmpty() && readBatch() == 0) {
                    pause(IDLE_POLL_MS);
                    continue;
                }
                deliverPending();
            } catch (SQLException e) {
                LOG.warn("sink {} - cannot read the admin-event trail: {}", config.name(), e.toString());
                failed("reading the admin-event trail failed: " + e.getMessage());
            } catch (IOException e) {
                LOG.error("sink {} - cannot read the journal: {}", config.name(), e.toString());
                failed("reading the journal failed: " + e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("sink {} - unexpected failure", config.name(), e);
                failed("internal error: " + e);
            }
        }
    }

    private boolean adminDue() {
        return System.nanoTime() - adminPolledNanos >= TimeUnit.MILLISECONDS.toNanos(ADMIN_POLL_MS);
    }

    /** Sends the admin events after the position's, if any; returns false when that failed (retried later). */
    private boolean deliverAdminEvents() throws SQLException {
        adminPolledNanos = System.nanoTime();
        List<AdminEventLog.Chained> events = adminEvents.after(position.adminSeq(), config.batchSize());
        if (events.isEmpty()) {
            return true;
        }
        List<SinkEvent> batch = events.stream().map(SinkEvent::admin).toList();
        try {
            transport.deliver(batch);
        } catch (IOException | RuntimeException e) {
            deliveryFailed(e);
            adminPolledNanos = 0; // again after the backoff, before more records
            return false;
        }
        String unsaved = save(p -> p.saveAdmin(events.get(events.size() - 1).seq()));
        if (unsaved != null) {
            failed(unsaved);
            return false;
        }
        delivered.addAndGet(batch.size());
        recovered();
        return true;
    }

    /** A change of the position, written to its file. */
    @FunctionalInterface
    private interface PositionChange {
        SinkPosition applyTo(SinkPosition position) throws IOException;
    }

    /**
     * Saves the position {@code change} makes; when the file cannot be written, logs it and returns why in one line
     * (the position stays as it was), else returns null.
     */
    private String save(PositionChange change) {
        try {
            position = change.applyTo(position);
            return null;
        } catch (IOException e) {
            LOG.error("sink {} - cannot save its position to {}: {}", config.name(), position.file(), e.toString());
            return "saving the position to " + position.file() + " failed: " + e.getMessage();
        }
    }

    /** Reads the next batch after what was read, and makes its events; returns how many. */
    private int readBatch() throws IOException {
        read.clear();
        int n = reader.read(next, config.batchSize(), read);
        for (JournaledRecord r : read) {
            if (r.seq() > next) {
                long gap = r.seq() - next;
                missing.addAndGet(gap);
                String account = "sink " + config.name() + ": records " + next + " to " + (r.seq() - 1) + " of node "
                        + r.record().node() + " are not in the journal (their append failed, or the journal was"
                        + " deleted while the sink was not configured); the database has what it stored";
                LOG.warn(account);
                alarm.accept(account);
            }
            head = chain.next(head, r.seq(), r.record());
            pending.add(SinkEvent.access(r.seq(), HEX.formatHex(head), r.record()));
            next = r.seq() + 1;
        }
        if (!pending.isEmpty()) {
            oldestPendingTsMs = Math.max(1, pending.get(0).ts().toEpochMilli());
        }
        return n;
    }

    private void deliverPending() {
        try {
            transport.deliver(pending);
        } catch (IOException | RuntimeException e) {
            deliveryFailed(e);
            return;
        }
        SinkEvent last = pending.get(pending.size() - 1);
        byte[] lastChain = HEX.parseHex(last.chain());
        String unsaved = save(p -> p.save(last.seq(), lastChain));
        if (unsaved != null) {
            // Delivered, but the position is not saved: the journal keeps the records (a restart sends them again).
            failed(unsaved);
            delivered.addAndGet(pending.size());
            pending.clear();
            oldestPendingTsMs = 0;
            return;
        }
        reader.commit(last.seq());
        delivered.addAndGet(pending.size());
        pending.clear();
        oldestPendingTsMs = 0;
        recovered();
    }

    private void deliveryFailed(Exception e) {
        retries.incrementAndGet();
        transport.close();
        if (e instanceof ReceiverBusyException busy && busy.retryAfter() != null) {
            // The receiver said when to come back (HTTP Retry-After): not sooner, and not later than it asked.
            backoffMs = Math.max(FIRST_BACKOFF_MS, busy.retryAfter().toMillis());
        }
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        if (state != State.FAILING || !why.equals(reason)) {
            LOG.warn("sink {} - delivery to {} failed, retried in {} ms (the journal keeps the records): {}",
                    config.name(), transport.target(), backoffMs, why);
        }
        failed(why);
    }

    private void recovered() {
        backoffMs = FIRST_BACKOFF_MS;
        if (state == State.FAILING) {
            LOG.info("sink {} - delivering to {} again", config.name(), transport.target());
        }
        state = State.UP;
        reason = null;
    }

    /** The {@code drop} policy: the journal is full and this sink is behind, so it skips to the newest record. */
    private void giveUpBacklog() {
        long last = reader.nextSeq() - 1;
        long from = reader.delivered() + 1;
        if (last < from) {
            return;
        }
        skipped.addAndGet(last - from + 1);
        pending.clear();
        oldestPendingTsMs = 0;
        next = last + 1;
        save(p -> p.save(last, head));
        reader.stopHolding(last);
        String account = "sink " + config.name() + " fell store.journalMaxBytes behind " + transport.target()
                + " (onBehind: drop): records " + from + " to " + last + " are not delivered to it";
        LOG.error(account);
        alarm.accept(account);
        state = State.BEHIND;
    }

    /**
     * Notes the failure and waits out the backoff; a {@code drop} sink looks at the journal meanwhile and gives its
     * backlog up the moment the journal is full, rather than after a backoff of up to {@value #MAX_BACKOFF_MS} ms.
     */
    private void failed(String why) {
        if (state != State.BEHIND) {
            state = State.FAILING;
        }
        reason = why;
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
        for (long left = backoffMs; left > 0 && !closing;
             left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())) {
            if (!config.blocks() && journalFull.getAsBoolean()) {
                giveUpBacklog();
            }
            pause(Math.min(left, DROP_CHECK_MS));
        }
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    }

    private void pause(long ms) {
        lock.lock();
        try {
            if (!closing) {
                wake.await(ms, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            closing = true;
        } finally {
            lock.unlock();
        }
    }

    private void signal() {
        lock.lock();
        try {
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
