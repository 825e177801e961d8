package dev.tollgate.store.pg;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessQuery;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.SchemaTooNewException;

import dev.tollgate.testing.PgTestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The schema on PostgreSQL: a fresh database, several nodes starting at once, and a schema from the future. */
class PgMigrationIT {

    private PgTestDatabase db;

    @BeforeEach
    void createDatabase() throws SQLException {
        db = PgTestDatabase.create();
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void aFreshDatabaseGetsTheCommonScriptsAndPostgresqlsOwnIndexes() throws Exception {
        try (AccessLog log = AccessLog.open(PgStoreConfig.of(db, null, null, null))) {
            log.writer().append(row("node-a", "example.com"));
            assertTrue(log.writer().flush(30_000));
            assertEquals(List.of("example.com"), log.reader().page(AccessQuery.all().withHost("example.com"))
                    .stream().map(AccessRecord::host).toList());
            assertFalse(log.keyIndexer().isActive(), "no key indexer on PostgreSQL");
        }
        try (Connection c = db.connect()) {
            assertEquals(List.of("1", "2", "3", "7", "9", "10", "11", "12", "13", "14"), appliedVersions(c));
            assertEquals(List.of("access_log_client_idx", "access_log_host_idx", "access_log_node_seq_idx",
                    "access_log_pkey", "access_log_ts_idx"), strings(c, "SELECT indexname FROM pg_indexes WHERE tablename = 'access_log'"
                    + " ORDER BY indexname"));
            assertEquals(List.of(),
                    strings(c, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'access_log_key%'"));
        }
    }

    @Test
    void nodesStartingAtTheSameMomentMigrateOnceAndAllOpen() throws Exception {
        int nodes = 3;
        CyclicBarrier together = new CyclicBarrier(nodes);
        ExecutorService starters = Executors.newFixedThreadPool(nodes);
        List<AccessLog> opened = new ArrayList<>();
        try {
            List<Future<AccessLog>> starting = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                Callable<AccessLog> start = () -> {
                    together.await(30, TimeUnit.SECONDS);
                    return AccessLog.open(PgStoreConfig.of(db, null, null, null));
                };
                starting.add(starters.submit(start));
            }
            for (Future<AccessLog> f : starting) {
                opened.add(f.get(120, TimeUnit.SECONDS));
            }
            for (int i = 0; i < nodes; i++) {
                opened.get(i).writer().append(row("node-" + i, "example.com"));
                assertTrue(opened.get(i).writer().flush(30_000));
            }
            assertEquals(nodes, opened.get(0).reader().page(AccessQuery.all()).size());
        } finally {
            opened.forEach(AccessLog::close);
            starters.shutdownNow();
        }
        try (Connection c = db.connect()) {
            assertEquals(List.of("1", "2", "3", "7", "9", "10", "11", "12", "13", "14"), appliedVersions(c),
                    "each version applied exactly once");
            assertEquals(List.of(), strings(c, "SELECT version FROM flyway_schema_history WHERE NOT success"));
        }
    }

    @Test
    void aSchemaNewerThanThisBuildIsRefusedWithBothVersionsNamed() throws Exception {
        try (AccessLog log = AccessLog.open(PgStoreConfig.of(db, null, null, null))) {
            assertTrue(log.writer().flush(30_000));
        }
        // What a newer release leaves behind: one more applied migration than this build ships.
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
                    + " checksum, installed_by, execution_time, success) VALUES (100, '99', 'from the future', 'SQL',"
                    + " 'V99__from_the_future.sql', 1, 'tollgate', 1, TRUE)");
        }

        SchemaTooNewException refused = assertThrows(SchemaTooNewException.class,
                () -> AccessLog.open(PgStoreConfig.of(db, null, null, null)));

        assertEquals("99", refused.databaseVersion());
        assertEquals("14", refused.buildVersion());
        assertTrue(refused.getMessage().contains("version 99") && refused.getMessage().contains("up to version 14"),
                refused.getMessage());
        assertFalse(refused.getMessage().contains("password=" + db.password()),
                "no password in " + refused.getMessage());
    }

    static AccessRecord row(String node, String host) {
        return new AccessRecord(null, System.currentTimeMillis(), 1L, node, "main", "10.0.0.1", 40000, null,
                Kind.FORWARD, "HTTP/1.1", "GET", host, 80, "/", 200, 0L, 2L, "93.184.216.34", null, Outcome.OK,
                null);
    }

    private static List<String> appliedVersions(Connection c) throws SQLException {
        return strings(c, "SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL"
                + " ORDER BY installed_rank");
    }

    static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
