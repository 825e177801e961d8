package dev.tollgate.store;

import dev.tollgate.store.pg.PgStoreConfig;
import dev.tollgate.testing.PgTestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.nio.file.Path;
import java.sql.SQLException;

/**
 * {@link AccessQueryIT}'s filters and paging on PostgreSQL, where host and client queries go through
 * access_log's own B-tree indexes rather than H2's key table. Skipped unless {@value PgTestDatabase#URL_VARIABLE}
 * is set. (Its database is made once for the class, in a {@code @BeforeAll}, where an assumption would skip the
 * class without a word in the report: hence the condition, which says why.)
 */
@EnabledIfEnvironmentVariable(named = PgTestDatabase.URL_VARIABLE, matches = ".+",
        disabledReason = PgTestDatabase.URL_VARIABLE + " is not set: skipping this PostgreSQL test (.ci/run sets it;"
                + " see docs/fleet.md, \"Tests\")")
class PgAccessQueryIT extends AccessQueryIT {

    private PgTestDatabase db;

    @Override
    AccessLog open(Path dir) throws SQLException {
        db = PgTestDatabase.create();
        return AccessLog.open(PgStoreConfig.of(db, 500, 60_000, null), AccessLogWriter.DEFAULT_CLOSE_TIMEOUT_MS, 3_600_000);
    }

    // @AfterAll again: an overriding method is a lifecycle method only when annotated itself, and the one it
    // overrides no longer runs.
    @Override
    @AfterAll
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
