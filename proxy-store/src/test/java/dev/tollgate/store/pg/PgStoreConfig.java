package dev.tollgate.store.pg;

import dev.tollgate.store.StoreConfig;
import dev.tollgate.testing.PgTestDatabase;

/** A store config for a test's own PostgreSQL database. */
public final class PgStoreConfig {

    private PgStoreConfig() {
    }

    /** The store config for {@code db} with the given writer settings (null for the defaults). */
    public static StoreConfig of(PgTestDatabase db, Integer batchSize, Integer flushIntervalMs,
                                 Integer queueCapacity) {
        return new StoreConfig(db.url(), db.user(), db.password(), batchSize, flushIntervalMs, queueCapacity);
    }
}
