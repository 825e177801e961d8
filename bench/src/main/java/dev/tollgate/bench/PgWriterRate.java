package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.StoreConfig;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * What the writer stores into PostgreSQL per second, and what a row costs on disk with its indexes: the figures
 * docs/fleet.md sizes the database with. Give it an empty database (the schema is made on open); until 2026-12
 * this was PgWriterRateIT in proxy-store.
 *
 * <pre>
 * java -cp target/benchmarks.jar dev.tollgate.bench.PgWriterRate jdbc:postgresql://127.0.0.1:5432/DB USER PASSWORD
 * </pre>
 */
public final class PgWriterRate {

    private static final int ROWS = 300_000;
    private static final String[] HOSTS = {"example.com", "a.example.com", "cdn.example.net", "api.example.org",
            "login.example.com", "static.example.io", "www.example.edu", "update.example.com"};

    private PgWriterRate() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: PgWriterRate JDBC_URL USER PASSWORD   (an empty database: this fills it)");
            System.exit(2);
        }
        StoreConfig config = new StoreConfig(args[0], args[1], args[2], null, null, null);
        try (AccessLog log = AccessLog.open(config)) {
            long start = System.nanoTime();
            for (int i = 0; i < ROWS; i++) {
                log.writer().append(row(i));
            }
            if (!log.writer().flush(600_000) || log.writer().written() != ROWS) {
                throw new IllegalStateException("stored " + log.writer().written() + " of " + ROWS + " rows");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("PostgreSQL writer: %d rows in %.1f s = %.0f rows/s (batchSize %d)%n", ROWS,
                    seconds, ROWS / seconds, StoreConfig.DEFAULT_BATCH_SIZE);
        }
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2]);
             Statement s = c.createStatement()) {
            s.execute("VACUUM ANALYZE access_log");
            try (ResultSet rs = s.executeQuery("SELECT pg_relation_size('access_log'),"
                    + " pg_indexes_size('access_log'), pg_total_relation_size('access_log')")) {
                rs.next();
                System.out.printf("PostgreSQL row size: table %d B/row, indexes %d B/row, total %d B/row%n",
                        rs.getLong(1) / ROWS, rs.getLong(2) / ROWS, rs.getLong(3) / ROWS);
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
