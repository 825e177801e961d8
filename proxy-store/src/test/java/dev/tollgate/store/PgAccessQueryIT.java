package dev.tollgate.store;

import dev.tollgate.store.pg.PgTestDatabase;

import java.nio.file.Path;
import java.sql.SQLException;

/**
 * {@link AccessQueryIT}'s filters and paging on PostgreSQL, where host and client queries go through
 * access_log's own B-tree indexes rather than H2's key table. Skipped unless {@value PgTestDatabase#URL_VARIABLE}
 * is set.
 */
class PgAccessQueryIT extends AccessQueryIT {

    private PgTestDatabase db;

    @Override
    AccessLog open(Path dir) throws SQLException {
        db = PgTestDatabase.create();
        return AccessLog.open(db.config(500, 60_000, null), AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS, 3_600_000);
    }

    @Override
    void close() throws SQLException {
        try {
            super.close();
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }
}
