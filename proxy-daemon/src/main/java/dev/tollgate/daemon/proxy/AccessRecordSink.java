package dev.tollgate.daemon.proxy;

import dev.tollgate.store.AccessRecord;

import java.util.function.Consumer;

/**
 * Where the listeners hand their access records: {@link #accept} journals a record and hands it on at once; a
 * request that must have its record in the journal before the client gets the end of its answer calls
 * {@link #journal} first and {@link #handOver} when the exchange is over, with the same record.
 */
public interface AccessRecordSink extends Consumer<AccessRecord> {

    /** Appends {@code r} to the journal now (it is safe from a crash on return) and returns its number. */
    long journal(AccessRecord r);

    /** Hands on a record {@link #journal}ed earlier under {@code seq}: to the database writer, stats and metrics. */
    void handOver(long seq, AccessRecord r);

    /** Journals and hands on at once. */
    @Override
    default void accept(AccessRecord r) {
        handOver(journal(r), r);
    }
}
