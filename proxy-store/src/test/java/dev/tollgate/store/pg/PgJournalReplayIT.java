package dev.tollgate.store.pg;

import dev.tollgate.store.JournalReplayScenarios;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.testing.PgTestDatabase;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The journal's replay scenarios on PostgreSQL: exactly once there too (ON CONFLICT DO NOTHING). Skipped without
 * {@value PgTestDatabase#URL_VARIABLE}.
 */
class PgJournalReplayIT extends JournalReplayScenarios {

    private PgTestDatabase db;

    @BeforeEach
    void createDatabase() throws Exception {
        db = PgTestDatabase.create();
    }

    @AfterEach
    void dropDatabase() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @Override
    protected StoreConfig config(Integer journalSegmentBytes) {
        return new StoreConfig(db.url(), db.user(), db.password(), null, 500, 60_000, null, null, null, null,
                journalSegmentBytes, null);
    }
}
