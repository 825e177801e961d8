package db.migration.common;

import dev.tollgate.store.internal.SealedDays;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Seals every UTC day the hour ranks hold that is over, oldest first, into V13's access_summary_key_day, and
 * writes the mark ({@link SealedDays#sealFromTheOldest}): after it, the writer (PostgreSQL), the key indexer (H2)
 * and retention keep the sealed days and seal each day as it ends. A Java migration, as V12 is, so that the hour
 * ranks are summed one dimension and one day at a time, each an INSERT ... SELECT ... GROUP BY over one contiguous
 * range of access_summary_key_hour's primary key, instead of one GROUP BY over the whole table, which H2 holds in
 * memory.
 * <p>
 * It reads the hour ranks, not access_log: on a store at V12 they are exact already, and a twentieth of the log's
 * rows or fewer. On H2 they count the rows up to the key indexer's mark, so the day ranks made here do too, and the
 * indexer adds the rest to both as it ranks them.
 */
public class V14__access_summary_key_day_backfill extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        SealedDays.sealFromTheOldest(context.getConnection(), System.currentTimeMillis());
    }
}
