package dev.tollgate.daemon;

import dev.tollgate.store.AccessLogWriter;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hands access records to the writer, which journals and queues them, under the configured overflow policy.
 * <ul>
 *   <li>{@code refuse}: new requests are turned away (503) at the door while the queue is full, so a record of
 *   a request that was let in waits for room rather than being lost; only the 503 refusals' own records are
 *   offered without waiting, and are counted when there is no room for them.</li>
 *   <li>{@code forward}: requests pass whatever the queue holds; a record that finds no room is counted as
 *   unlogged, with a WARN at most once a minute.</li>
 * </ul>
 */
final class AccessLogSink {

    private static final Logger LOG = LoggerFactory.getLogger(AccessLogSink.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final AccessLogWriter writer;
    private final boolean refuseOnOverflow;
    private final LongAdder unlogged = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicLong lastWarnNanos = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);

    AccessLogSink(AccessLogWriter writer, boolean refuseOnOverflow) {
        this.writer = writer;
        this.refuseOnOverflow = refuseOnOverflow;
    }

    /** Appends {@code record} to the journal and queues it for the database, under the overflow policy. */
    void journal(AccessRecord record) {
        if (refuseOnOverflow && record.outcome() != Outcome.OVERLOADED) {
            writer.append(record);
            return;
        }
        if (writer.offer(record)) {
            return;
        }
        if (refuseOnOverflow) {
            dropped.increment();
        } else {
            unlogged.increment();
            warnAtMostOncePerMinute();
        }
    }

    /** Whether new requests must be turned away now: the refuse policy and a full queue. */
    boolean refusesNewRequests() {
        return refuseOnOverflow && writer.isFull();
    }

    /** Requests forwarded without their record ({@code forward} policy, queue and journal full). */
    long unlogged() {
        return unlogged.sum();
    }

    /**
     * Records of 503 refusals ({@code refuse} policy) that found no room and are not stored: the requests were not
     * forwarded. Never one of {@link #unlogged()}'s: the two count different requests.
     */
    long dropped() {
        return dropped.sum();
    }

    private void warnAtMostOncePerMinute() {
        long now = System.nanoTime();
        long last = lastWarnNanos.get();
        if (now - last >= WARN_EVERY_NANOS && lastWarnNanos.compareAndSet(last, now)) {
            LOG.warn("access log full: forwarding requests without their access record (onOverflow \"forward\");"
                    + " {} unlogged so far", unlogged.sum());
        }
    }
}
