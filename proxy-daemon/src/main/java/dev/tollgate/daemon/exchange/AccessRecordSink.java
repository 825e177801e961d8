package dev.tollgate.daemon.exchange;

import dev.tollgate.store.AccessRecord;

import java.util.function.Consumer;

/**
 * Where the listeners hand their access records: {@link #accept} logs a record and counts it at once; a request
 * that must have its record in the journal before the client gets the end of its answer calls {@link #journal}
 * then, and {@link #ended} when the exchange is over, with the same record.
 */
public interface AccessRecordSink extends Consumer<AccessRecord> {

    /**
     * Appends {@code r} to the journal and queues it for the database, in journal order, under the overflow
     * policy: on return a crash cannot lose it.
     */
    void journal(AccessRecord r);

    /** The exchange that {@code r}, {@link #journal}ed earlier, records has ended: to the stats and metrics. */
    void ended(AccessRecord r);

    /** Journals and counts at once. */
    @Override
    default void accept(AccessRecord r) {
        journal(r);
        ended(r);
    }
}
