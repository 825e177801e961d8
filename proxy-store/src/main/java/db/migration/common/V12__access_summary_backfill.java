package db.migration.common;

import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.SummaryBackfill;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

import java.sql.Connection;

/**
 * Fills V11's roll-up tables from the rows access_log already holds (docs/access-log.md, "Roll-ups"): after it, the
 * writer, the key indexer and retention keep them. A Java migration, not SQL, so that the rows are summed by the
 * writer's own code, one day of rows at a time ({@link SummaryBackfill}), which a script could not loop over.
 * <p>
 * It runs in the migration's one transaction, at the open that brings the schema to V12, before the writer starts:
 * on an empty log in no time; on a large one it is a full read of access_log through its ts index (measured in
 * docs/access-log.md), and the daemon's start waits for it. Nodes of a fleet sharing a PostgreSQL database wait on
 * Flyway's lock meanwhile; a node still running the build before this one writes rows the roll-ups never count, so
 * a fleet is upgraded stopped, all nodes at once.
 */
public class V12__access_summary_backfill extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        SummaryBackfill.runAsOfV12(c, DatabaseUrl.vendorOf(c.getMetaData().getURL()));
    }
}
