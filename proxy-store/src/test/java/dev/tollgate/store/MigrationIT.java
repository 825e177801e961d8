package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogKeyTable;
import dev.tollgate.store.internal.DatabaseUrl.Vendor;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Schema upgrades on a database that an earlier Tollgate left behind. */
class MigrationIT {

    @TempDir
    Path dir;

    @Test
    void aVersionOneDatabaseWithRowsIsUpgradedAndReopensCleanly() throws Exception {
        createVersionOneDatabaseWithOneRow();

        try (AccessLog log = AccessLog.open(config())) {
            List<AccessRecord> old = log.reader().page(AccessQuery.all().withHost("old.example"));
            assertEquals(List.of("/from-v1"), old.stream().map(AccessRecord::path).toList());
            // The row from before V3 is indexed like any other, and found through its keys afterwards.
            log.keyIndexer().indexNow();
            assertEquals(List.of("/from-v1"), log.reader().page(AccessQuery.all().withClient("10.0.0.1")).stream()
                    .map(AccessRecord::path).toList());
            log.listeners().save("node", "api-made", "{}", StoredListener.RUNNING);
            log.adminEvents().record(new AdminEvent(null, Instant.EPOCH, "node", "admin", "127.0.0.1",
                    "listener.create", "api-made", AdminEvent.OK, 201, null));
        }
        try (AccessLog log = AccessLog.open(config());
             Connection c = log.dataSource().getConnection()) {
            assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"),
                    strings(c, "SELECT \"version\" FROM \"flyway_schema_history\""
                    + " WHERE \"success\" AND \"version\" IS NOT NULL ORDER BY \"installed_rank\""));
            assertEquals(List.of(), strings(c, "SELECT \"version\" FROM \"flyway_schema_history\" WHERE NOT \"success\""));
            // No host, client or journal-number index on access_log itself: the writer would pay for them (V3's and
            // V8's comments).
            assertEquals(List.of("ACCESS_LOG_TS_IDX"),
                    strings(c, "SELECT INDEX_NAME FROM INFORMATION_SCHEMA.INDEXES WHERE TABLE_NAME = 'ACCESS_LOG'"
                            + " AND INDEX_NAME LIKE 'ACCESS_LOG!_%' ESCAPE '!' ORDER BY INDEX_NAME"));
            assertEquals(List.of(AccessLogKeyTable.key(AccessLogKeyTable.HOST, "old.example", 1),
                            AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, "10.0.0.1", 1)).stream().sorted()
                            .map(String::valueOf).toList(),
                    strings(c, "SELECT k FROM access_log_key ORDER BY k"));
            assertEquals(List.of("1"), strings(c, "SELECT id FROM access_log_key_mark"));
            assertEquals(List.of("api-made"),
                    log.listeners().list("node").stream().map(StoredListener::name).toList());
            assertEquals(1, log.adminEvents().page(0, 10).size());
            assertEquals(1, log.reader().page(AccessQuery.all()).size());
        }
    }

    @Test
    void aNewDatabaseGetsEveryVersion() throws Exception {
        try (AccessLog log = AccessLog.open(config());
             Connection c = log.dataSource().getConnection()) {
            assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"),
                    strings(c, "SELECT \"version\" FROM \"flyway_schema_history\""
                    + " WHERE \"success\" AND \"version\" IS NOT NULL ORDER BY \"installed_rank\""));
        }
    }

    /** What the previous release left: the schema at version 1 and a row written under it. */
    private void createVersionOneDatabaseWithOneRow() throws SQLException {
        Flyway.configure(MigrationIT.class.getClassLoader())
                .dataSource(url(), StoreConfig.DEFAULT_USER, StoreConfig.DEFAULT_PASSWORD)
                .locations(AccessLog.migrationLocations(Vendor.H2))
                .target("1")
                .load()
                .migrate();
        try (Connection c = DriverManager.getConnection(url(), StoreConfig.DEFAULT_USER, StoreConfig.DEFAULT_PASSWORD);
             Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO access_log (ts, duration_ms, node, listener, client_addr, client_port, kind,"
                    + " method, host, port, path, status, outcome) VALUES (TIMESTAMP WITH TIME ZONE"
                    + " '2025-12-31 23:00:00+00', 1, 'node', 'public', '10.0.0.1', 1, 'FORWARD', 'GET',"
                    + " 'old.example', 80, '/from-v1', 200, 'OK')");
            assertEquals(List.of("1"), strings(c, "SELECT \"version\" FROM \"flyway_schema_history\""
                    + " WHERE \"version\" IS NOT NULL"));
            assertTrue(strings(c, "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'LISTENER'")
                    .isEmpty());
        }
    }

    private String url() {
        return "jdbc:h2:file:" + dir.resolve("access");
    }

    private StoreConfig config() {
        return new StoreConfig(url(), null, null, null, null, null);
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
