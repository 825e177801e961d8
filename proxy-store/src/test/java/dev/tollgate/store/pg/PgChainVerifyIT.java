package dev.tollgate.store.pg;

import dev.tollgate.store.ChainVerifyScenarios;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.testing.PgTestDatabase;

import org.junit.jupiter.api.AfterEach;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The chain's scenarios on PostgreSQL, where the head is read by node through V7's (node, seq) index. Skipped
 * without {@value PgTestDatabase#URL_VARIABLE}.
 */
class PgChainVerifyIT extends ChainVerifyScenarios {

    private PgTestDatabase db;

    @Override
    protected void prepareDatabase() throws SQLException {
        db = PgTestDatabase.create();
    }

    @AfterEach
    void dropDatabase() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @Override
    protected StoreConfig config() {
        return new StoreConfig(db.url(), db.user(), db.password(), null, 500, 60_000, null, null, null, null, null,
                null);
    }

    @Override
    protected Connection connect() throws SQLException {
        return db.connect();
    }

    /** The owner may drop V7's unique index, as an attacker with its password would. */
    @Override
    protected boolean sharedByNodes() {
        return true;
    }

    @Override
    protected void allowADuplicateNumber() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("DROP INDEX access_log_node_seq_idx");
        }
    }
}
