package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.StoreConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The access log the query benchmarks read: an H2 file of {@value #ROWS} rows spread over 30 days, about
 * 5,000 hosts (a few popular, most rare) and 1,000 clients, written through the real writer. Filling it takes
 * a minute or two, so it is made once under {@link #dataDir()} and reused while it holds the right number
 * of rows. The rows are the same on every run: the generator is seeded.
 */
final class MillionRowAccessLog {

    static final int ROWS = 1_000_000;
    static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    static final Duration SPAN = Duration.ofDays(30);
    static final int HOSTS = 5_000;
    static final int CLIENTS = 1_000;
    static final long SEED = 20260101L;

    private MillionRowAccessLog() {
    }

    /** Where benchmark databases live: {@code -Dtollgate.bench.dir}, else target/tollgate-bench. */
    static Path dataDir() {
        return Path.of(System.getProperty("tollgate.bench.dir", "target/tollgate-bench"));
    }

    /** Opens the million-row log in {@code dir}, filling it first when it is missing or incomplete. */
    static AccessLog openOrFill(Path dir) throws SQLException, IOException {
        AccessLog log = open(dir, StoreConfig.DEFAULT_BATCH_SIZE);
        if (count(log) == ROWS) {
            log.keyIndexer().indexNow();
            return log;
        }
        log.close();
        deleteRecursively(dir);
        log = open(dir, 10_000);
        long started = System.nanoTime();
        Random random = new Random(SEED);
        for (int i = 0; i < ROWS; i++) {
            log.writer().append(row(random, i));
        }
        if (!log.writer().flush(600_000)) {
            throw new IllegalStateException("filling " + dir + " did not finish");
        }
        System.err.printf("filled %s with %,d rows in %,d ms%n", dir, ROWS,
                Duration.ofNanos(System.nanoTime() - started).toMillis());
        // The benchmarks measure queries on an indexed log, as a daemon that keeps up has it; not the tail.
        started = System.nanoTime();
        long indexed = log.keyIndexer().indexNow();
        System.err.printf("indexed the keys of %,d more rows in %,d ms%n", indexed,
                Duration.ofNanos(System.nanoTime() - started).toMillis());
        return log;
    }

    /** A fresh, empty access log in {@code dir}, whatever was there before, writing {@code batchSize} rows a commit. */
    static AccessLog openEmpty(Path dir, int batchSize) throws SQLException, IOException {
        deleteRecursively(dir);
        return open(dir, batchSize);
    }

    /**
     * Row {@code i} of the million: one every 2.6 s on average, with up to 2 s of jitter. One in a hundred is
     * a tunnel of up to an hour, recorded when it closed, so its ts lags behind its neighbours' ids, as real
     * tunnels do. 30 % CONNECT, the rest mostly GET; mostly 200, some 404, 403, 407 and 502.
     */
    static AccessRecord row(Random random, long i) {
        return row(random, i, "bench-node", START.toEpochMilli(), SPAN.toMillis(), ROWS);
    }

    /**
     * Row {@code i} of {@code rows} spread evenly over the {@code spanMs} from {@code startMs}, stored by node
     * {@code node}: the million's mix at any size, for PreloadAccessLog. The same draws in the same order as
     * {@link #row(Random, long)}, so that the million-row log stays what it was. {@code rows * spanMs} must fit in a
     * long.
     */
    static AccessRecord row(Random random, long i, String node, long startMs, long spanMs, long rows) {
        long tsMs = startMs + i * spanMs / rows + random.nextInt(2_000);
        double kindDraw = random.nextDouble();
        boolean tunnel = kindDraw < 0.30;
        long durationMs = tunnel && random.nextInt(100) == 0 ? random.nextInt(3_600_000) : random.nextInt(500);
        int statusDraw = random.nextInt(100);
        int status = statusDraw < 90 ? 200 : statusDraw < 95 ? 404 : statusDraw < 98 ? 403 : statusDraw < 99 ? 407
                : 502;
        Outcome outcome = switch (status) {
            case 403 -> Outcome.DENIED;
            case 407 -> Outcome.AUTH_REQUIRED;
            case 502 -> Outcome.UPSTREAM_UNREACHABLE;
            default -> Outcome.OK;
        };
        String host = drawHost(random);
        return new AccessRecord(null, tsMs - durationMs, durationMs, node,
                random.nextInt(5) == 0 ? "internal" : "public", drawClient(random),
                1_024 + random.nextInt(60_000), random.nextInt(10) == 0 ? "alice" : null,
                tunnel ? Kind.TUNNEL : Kind.FORWARD, "HTTP/1.1", tunnel ? "CONNECT" : kindDraw < 0.85 ? "GET" : "POST",
                host, tunnel ? 443 : 80, tunnel ? null : "/p/" + random.nextInt(1_000), status,
                random.nextInt(10_000), random.nextInt(1_000_000), "192.0.2." + random.nextInt(256), null, outcome,
                outcome == Outcome.OK ? null : "benchmark row");
    }

    /** A host of the million-row log's mix: low numbers, the popular hosts, are drawn most often. */
    static String drawHost(Random random) {
        return host((int) (HOSTS * Math.pow(random.nextDouble(), 2)));
    }

    /** A client of the million-row log's mix, each as likely as the others. */
    static String drawClient(Random random) {
        return client(random.nextInt(CLIENTS));
    }

    /**
     * Host {@code n}: one in ten is www{n}.example.com and one in ten api.cdn{n}.example.com, so that a fifth
     * of the hosts fall under *.example.com; the rest are h{n}.example.net. Low numbers are drawn most often.
     */
    static String host(int n) {
        return switch (n % 10) {
            case 0 -> "www" + n + ".example.com";
            case 5 -> "api.cdn" + n + ".example.com";
            default -> "h" + n + ".example.net";
        };
    }

    static String client(int n) {
        return "10.20." + n / 256 + "." + n % 256;
    }

    private static AccessLog open(Path dir, int batchSize) throws SQLException {
        return AccessLog.open(new StoreConfig("jdbc:h2:file:" + dir.toAbsolutePath().resolve("access"), null, null,
                batchSize, null, 100_000));
    }

    private static long count(AccessLog log) throws SQLException {
        try (Connection c = log.dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM access_log")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
