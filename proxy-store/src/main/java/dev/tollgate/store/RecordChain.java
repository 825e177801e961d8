package dev.tollgate.store;

import dev.tollgate.store.internal.RowChain;

/**
 * The access log's hash chain for a reader outside the database (a push sink): each record's value is SHA-256 of
 * the previous value and the record's canonical bytes under its number, computed exactly as the database's
 * {@code chain} column is, so that a stream that carries the same records in the same order carries the same
 * values. One instance per thread.
 */
public final class RecordChain {

    private final RowChain<AccessRecord> chain = RowChain.accessLog();

    /** The value before the first record: 32 zero bytes. */
    public static byte[] genesis() {
        return RowChain.genesis();
    }

    /** The value of {@code r} numbered {@code seq} after a record whose value is {@code previous}. */
    public byte[] next(byte[] previous, long seq, AccessRecord r) {
        return chain.next(previous, seq, r);
    }
}
