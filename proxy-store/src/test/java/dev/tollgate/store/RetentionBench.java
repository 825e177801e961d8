package dev.tollgate.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A measurement, not a test (its name matches neither *Test nor *IT): the access-log writer's insert rate,
 * saturated by one producer, without a purge and while a purge deletes {@code oldRows} rows, on a real H2
 * file. Also the longest time the writer committed nothing (its longest stall) in each window.
 * docs/access-log.md, "Retention", has the command and the figures.
 * <p>
 * Arguments, all optional: oldRows (1000000), windowSeconds (20), hosts (1000: rows spread over that many
 * destination hosts and a quarter as many clients, which is what makes the host and client indexes costly),
 * {@code pause} or {@code nopause} (pause between batches, as the daemon does, or not).
 */
public final class RetentionBench {

    private static final int RETENTION_DAYS = 90;
    private static final long SAMPLE_MS = 5;
    private static final int SEED_CHUNK = 100_000;

    private final AccessLog log;
    private final int hosts;
    private final AtomicBoolean producing = new AtomicBoolean(true);
    private final AtomicLong longestStallNanos = new AtomicLong();
    private volatile boolean measuringStall;

    private RetentionBench(AccessLog log, int hosts) {
        this.log = log;
        this.hosts = hosts;
    }

    public static void main(String[] args) throws Exception {
        int oldRows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int windowSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int hosts = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        boolean pause = args.length <= 3 || !args[3].equals("nopause");
        Path dir = Files.createTempDirectory("retention-bench");
        String url = "jdbc:h2:file:" + dir.resolve("access");
        print("retention bench: %,d old rows, %d s windows, %d hosts, %d clients, %s between batches; %d cores,"
                + " load average %s; Java %s; %s", oldRows, windowSeconds, hosts, clients(hosts),
                pause ? "pause" : "no pause", Runtime.getRuntime().availableProcessors(), loadAverage(),
                System.getProperty("java.version"), url);

        // The daemon's writer settings (batchSize 500, flushIntervalMs 200, queueCapacity 65536).
        StoreConfig daemonDefaults = new StoreConfig(url, null, null, null, null, null);
        try (AccessLog log = AccessLog.open(daemonDefaults)) {
            seed(log, oldRows, hosts);
            new RetentionBench(log, hosts).measure(windowSeconds, oldRows, pause);
        }
        print("database file: %,d bytes; load average %s", Files.size(dir.resolve("access.mv.db")), loadAverage());
        // Gigabytes by now: not left behind in the temporary directory.
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    /**
     * Stores {@code n} rows 100 days old, one millisecond apart, shaped like {@link #record}'s. In H2's own SQL,
     * not through the writer, and with the secondary indexes dropped and then built again: row by row, with
     * rows spread over many hosts, seeding alone would take minutes.
     */
    private static void seed(AccessLog log, int n, int hosts) throws SQLException {
        long start = System.nanoTime();
        Instant first = Instant.now().minus(Duration.ofDays(RETENTION_DAYS + 10));
        List<String> createIndexes = new ArrayList<>();
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SCRIPT NODATA")) {
                while (rs.next()) {
                    String ddl = rs.getString(1);
                    if (ddl.startsWith("CREATE INDEX") && ddl.contains("\"ACCESS_LOG\"")) {
                        createIndexes.add(ddl);
                    }
                }
            }
            for (String ddl : createIndexes) {
                s.execute("DROP INDEX " + ddl.substring("CREATE INDEX ".length(), ddl.indexOf(" ON ")));
            }
        }
        try (Connection c = log.dataSource().getConnection();
             PreparedStatement insert = c.prepareStatement("INSERT INTO access_log (ts, duration_ms, node, listener,"
                     + " client_addr, client_port, kind, protocol, method, host, port, status, bytes_from_client,"
                     + " bytes_to_client, upstream_addr, outcome)"
                     + " SELECT DATEADD(MILLISECOND, X, CAST(? AS TIMESTAMP(3) WITH TIME ZONE)), 37, 'bench-node',"
                     + " 'public', '10.0.0.' || MOD(X, ?), 40000 + MOD(X, 20000), 'TUNNEL', 'HTTP/1.1', 'CONNECT',"
                     + " 'host' || MOD(X, ?) || '.example.com', 443, 200, 1200, 48000, '192.0.2.' || MOD(X, 250),"
                     + " 'OK' FROM SYSTEM_RANGE(?, ?)")) {
            for (int from = 0; from < n; from += SEED_CHUNK) {
                insert.setObject(1, OffsetDateTime.ofInstant(first, ZoneOffset.UTC));
                insert.setInt(2, clients(hosts));
                insert.setInt(3, hosts);
                insert.setInt(4, from);
                insert.setInt(5, Math.min(n, from + SEED_CHUNK) - 1);
                insert.executeUpdate();
            }
        }
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String ddl : createIndexes) {
                s.execute(ddl);
            }
        }
        print("seeded %,d old rows in %.1f s (indexes rebuilt: %d)", n, seconds(System.nanoTime() - start),
                createIndexes.size());
    }

    private void measure(int windowSeconds, int oldRows, boolean pause) throws Exception {
        Thread producer = new Thread(this::produce, "bench-producer");
        Thread sampler = new Thread(this::sampleStalls, "bench-sampler");
        producer.setDaemon(true);
        sampler.setDaemon(true);
        producer.start();
        sampler.start();
        window("warm-up", 5);
        double before = window("no purge (before)", windowSeconds);

        RetentionPurger purger = purger(log, pause);
        longestStallNanos.set(0);
        long writtenAtStart = log.writer().written();
        long start = System.nanoTime();
        measuringStall = true;
        long deleted = purger.purgeNow();
        measuringStall = false;
        long elapsed = System.nanoTime() - start;
        double during = (log.writer().written() - writtenAtStart) / seconds(elapsed);
        purger.close();
        print("%-19s %,8.0f rows/s, longest stall %4d ms; deleted %,d rows in %.1f s", "during purge:", during,
                TimeUnit.NANOSECONDS.toMillis(longestStallNanos.get()), deleted, seconds(elapsed));
        if (deleted != oldRows || countOld() != 0) {
            throw new IllegalStateException("the purge left old rows: deleted " + deleted);
        }

        double after = window("no purge (after)", windowSeconds);
        producing.set(false);
        producer.join();
        print("writer rate during the purge: %.0f%% of the mean without", 100 * during / ((before + after) / 2));
    }

    /** The writer's rate over {@code seconds} with no purge running. */
    private double window(String name, int seconds) throws InterruptedException {
        longestStallNanos.set(0);
        long writtenAtStart = log.writer().written();
        long start = System.nanoTime();
        measuringStall = true;
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        measuringStall = false;
        double rate = (log.writer().written() - writtenAtStart) / seconds(System.nanoTime() - start);
        if (!name.equals("warm-up")) {
            print("%-19s %,8.0f rows/s, longest stall %4d ms", name + ":", rate,
                    TimeUnit.NANOSECONDS.toMillis(longestStallNanos.get()));
        }
        return rate;
    }

    /** Appends new rows as fast as the writer takes them: append() waits while the queue is full. */
    private void produce() {
        long i = 0;
        while (producing.get()) {
            log.writer().append(record(System.currentTimeMillis(), i++));
        }
    }

    /** The longest time, while measuring, in which the writer committed nothing. */
    private void sampleStalls() {
        long lastWritten = log.writer().written();
        long lastProgress = System.nanoTime();
        while (producing.get()) {
            long written = log.writer().written();
            long now = System.nanoTime();
            if (written != lastWritten || !measuringStall) {
                lastWritten = written;
                lastProgress = now;
            } else {
                longestStallNanos.accumulateAndGet(now - lastProgress, Math::max);
            }
            try {
                Thread.sleep(SAMPLE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private long countOld() throws SQLException {
        try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM access_log"
                     + " WHERE ts < CURRENT_TIMESTAMP - INTERVAL '" + RETENTION_DAYS + "' DAY")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static RetentionPurger purger(AccessLog log, boolean pause) {
        return RetentionPurger.start(log.dataSource(), RETENTION_DAYS, RetentionPurger.Pacing.onlyWhenAsked(pause),
                Clock.systemUTC(), () -> { });
    }

    /** A tunnel to one of {@code hosts} hosts from one of a quarter as many clients. */
    private AccessRecord record(long tsMs, long i) {
        return new AccessRecord(null, tsMs, 37L, "bench-node", "public", "10.0.0." + (i % clients(hosts)),
                40_000 + (int) (i % 20_000), null, Kind.TUNNEL, "HTTP/1.1", "CONNECT",
                "host" + (i % hosts) + ".example.com", 443, null, 200, 1_200L, 48_000L, "192.0.2." + (i % 250), null,
                Outcome.OK, null);
    }

    private static int clients(int hosts) {
        return Math.max(1, hosts / 4);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static void print(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }
}
