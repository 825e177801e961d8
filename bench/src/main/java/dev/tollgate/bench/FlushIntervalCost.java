package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessLogWriter;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.StoreConfig;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What flushIntervalMs costs, for docs/access-log.md ("What flushIntervalMs costs"): for each interval, the
 * writer's rate with producers appending as fast as they can (batches fill, so the interval hardly matters), and
 * the writer thread's CPU per record at a steady 2,000 records/s, where batches are cut by the interval: a
 * shorter interval means more, smaller commits. Until 2026-12 this was FlushIntervalCostIT in proxy-store.
 *
 * <pre>
 * java -cp target/benchmarks.jar dev.tollgate.bench.FlushIntervalCost [flushIntervalMs...]   # default 50 200 1000
 * </pre>
 */
public final class FlushIntervalCost {

    private static final int SATURATED_RECORDS = 200_000;
    private static final int PRODUCERS = 4;
    private static final int PACED_PER_SECOND = 2_000;
    private static final int PACED_SECONDS = 5;
    private static final int PACED_TICK_MS = 10;

    private FlushIntervalCost() {
    }

    public static void main(String[] args) throws Exception {
        List<Integer> intervals = args.length == 0 ? List.of(50, 200, 1000)
                : Arrays.stream(args).map(Integer::valueOf).toList();
        for (int flushIntervalMs : intervals) {
            Path dir = MillionRowAccessLog.dataDir().resolve("flush-interval-" + flushIntervalMs);
            MillionRowAccessLog.deleteRecursively(dir);
            measure(dir, flushIntervalMs);
        }
    }

    private static void measure(Path dir, int flushIntervalMs) throws Exception {
        StoreConfig config = new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null,
                flushIntervalMs, null);
        try (AccessLog log = AccessLog.open(config)) {
            AccessLogWriter writer = log.writer();
            // Warm-up, so that the JIT has compiled the insert path before anything is measured.
            appendAll(writer, 50_000);
            flushed(writer);

            long cpuBefore = writerCpuNanos();
            long start = System.nanoTime();
            appendAll(writer, SATURATED_RECORDS);
            flushed(writer);
            double seconds = (System.nanoTime() - start) / 1e9;
            double saturatedCpuUs = (writerCpuNanos() - cpuBefore) / 1e3 / SATURATED_RECORDS;

            cpuBefore = writerCpuNanos();
            int perTick = PACED_PER_SECOND * PACED_TICK_MS / 1000;
            int ticks = PACED_SECONDS * 1000 / PACED_TICK_MS;
            long next = System.nanoTime();
            for (int t = 0; t < ticks; t++) {
                for (int i = 0; i < perTick; i++) {
                    writer.append(record(i));
                }
                next += TimeUnit.MILLISECONDS.toNanos(PACED_TICK_MS);
                long pause = next - System.nanoTime();
                if (pause > 0) {
                    // Pacing the offered load, not waiting for a result.
                    TimeUnit.NANOSECONDS.sleep(pause);
                }
            }
            flushed(writer);
            double pacedCpuUs = (writerCpuNanos() - cpuBefore) / 1e3 / (perTick * ticks);
            System.out.printf("flushIntervalMs %4d: saturated %,8.0f records/s (writer CPU %.1f us/record);"
                    + " at %,d records/s writer CPU %.1f us/record, about %.0f commits/s%n", flushIntervalMs,
                    SATURATED_RECORDS / seconds, saturatedCpuUs, PACED_PER_SECOND, pacedCpuUs,
                    Math.max(1000.0 / flushIntervalMs, PACED_PER_SECOND / (double) StoreConfig.DEFAULT_BATCH_SIZE));
        }
    }

    private static void flushed(AccessLogWriter writer) {
        if (!writer.flush(120_000)) {
            throw new IllegalStateException("the writer did not catch up in 2 minutes");
        }
    }

    private static void appendAll(AccessLogWriter writer, int records) throws InterruptedException {
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            Thread producer = new Thread(() -> {
                for (int i = 0; i < records / PRODUCERS; i++) {
                    writer.append(record(i));
                }
            }, "producer-" + p);
            producer.start();
            producers.add(producer);
        }
        for (Thread producer : producers) {
            producer.join();
        }
    }

    private static long writerCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (AccessLogWriter.THREAD_NAME.equals(t.getName())) {
                return threads.getThreadCpuTime(t.getId());
            }
        }
        throw new IllegalStateException("no thread " + AccessLogWriter.THREAD_NAME);
    }

    private static AccessRecord record(int i) {
        return new AccessRecord(null, System.currentTimeMillis(), 12L, "node", "public", "10.0.0." + (i % 250),
                40_000 + i % 20_000, null, Kind.FORWARD, "HTTP/1.1", "GET", "host" + (i % 100) + ".example.org", 80,
                "/path/" + i, 200, 0L, 512L, "192.0.2.1", null, Outcome.OK, null);
    }
}
