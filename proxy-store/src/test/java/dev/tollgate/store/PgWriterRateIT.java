package dev.tollgate.store;

import dev.tollgate.store.pg.PgStoreConfig;
import dev.tollgate.testing.PgTestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the writer stores into PostgreSQL per second, and what a row costs on disk with its indexes: the figures
 * docs/fleet.md sizes the database with. A measurement, not a test of speed; run on demand:
 * <pre>
 * TOLLGATE_TEST_PG_URL=... mvn -B -o -pl proxy-store -am verify -Dit.test=PgWriterRateIT -Dtollgate.bench=true \
 *     -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 */
@EnabledIfSystemProperty(named = "tollgate.bench", matches = "true")
class PgWriterRateIT {

    private static final int ROWS = 300_000;
    private static final String[] HOSTS = {"example.com", "a.example.com", "cdn.example.net", "api.example.org",
            "login.example.com", "static.example.io", "www.example.edu", "update.example.com"};

    @Test
    void storeRowsAsFastAsTheWriterCan() throws Exception {
        try (PgTestDatabase db = PgTestDatabase.create()) {
            try (AccessLog log = AccessLog.open(PgStoreConfig.of(db, null, null, null))) {
                long start = System.nanoTime();
                for (int i = 0; i < ROWS; i++) {
                    log.writer().append(row(i));
                }
                assertTrue(log.writer().flush(600_000));
                double seconds = (System.nanoTime() - start) / 1e9;
                assertEquals(ROWS, log.writer().written());
                System.out.printf("PostgreSQL writer: %d rows in %.1f s = %.0f rows/s (batchSize %d)%n", ROWS,
                        seconds, ROWS / seconds, StoreConfig.DEFAULT_BATCH_SIZE);
            }
            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                s.execute("VACUUM ANALYZE access_log");
                try (ResultSet rs = s.executeQuery("SELECT pg_relation_size('access_log'),"
                        + " pg_indexes_size('access_log'), pg_total_relation_size('access_log')")) {
                    rs.next();
                    System.out.printf("PostgreSQL row size: table %d B/row, indexes %d B/row, total %d B/row%n",
                            rs.getLong(1) / ROWS, rs.getLong(2) / ROWS, rs.getLong(3) / ROWS);
                }
            }
        }
    }

    /** A plausible row: a forwarded request with a path of about 40 characters and no reason. */
    private static AccessRecord row(int i) {
        return new AccessRecord(null, System.currentTimeMillis(), 12L, "node-a", "main", "10.1." + (i % 200) + "."
                + (i % 250), 30_000 + i % 30_000, null, Kind.FORWARD, "HTTP/1.1", "GET", HOSTS[i % HOSTS.length], 443,
                "/assets/v2/images/banner-" + i + ".png", 200, 0L, 14_000L + i % 5_000, "93.184.216.34", null,
                Outcome.OK, null);
    }
}
