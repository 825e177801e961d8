package dev.tollgate.store.pg;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.JournaledRecord;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.store.SummaryScenarios;
import dev.tollgate.store.internal.AccessLogInserter;
import dev.tollgate.testing.PgTestDatabase;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The roll-ups' scenarios on PostgreSQL, where the upsert is ON CONFLICT DO UPDATE and a replayed row is skipped by
 * ON CONFLICT DO NOTHING. Skipped without {@value PgTestDatabase#URL_VARIABLE}.
 */
class PgAccessSummaryIT extends SummaryScenarios {

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

    @Test
    void aBatchHoldingRowsStoredAlreadyCountsOnlyTheRowsOnConflictLetIn() throws Exception {
        try (AccessLog log = AccessLog.open(config(), journalDir(), NODE)) {
            Random random = new Random(13);
            List<JournaledRecord> records = new ArrayList<>();
            for (int i = 1; i <= 30; i++) {
                records.add(new JournaledRecord(i, randomRecord(random, BASE, Duration.ofHours(2))));
            }
            AccessLogInserter inserter = new AccessLogInserter(log.dataSource(), vendor(), seq -> { });
            try {
                inserter.insert(new ArrayList<>(records.subList(0, 20)));
                // The same inserter, so no look at what is stored first: records 11 to 20 reach the insert again,
                // as a batch retried after a lost commit answer can, and ON CONFLICT DO NOTHING skips them.
                inserter.insert(new ArrayList<>(records.subList(10, 30)));
            } finally {
                inserter.close();
            }

            assertEquals(30, assertRollUpsEqualTheLog(log));
        }
    }

    @Override
    protected StoreConfig config() {
        return new StoreConfig(db.url(), db.user(), db.password(), null, 500, 60_000, null, null, null, null, null,
                null);
    }
}
