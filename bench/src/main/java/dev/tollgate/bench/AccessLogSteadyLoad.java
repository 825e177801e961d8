package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessLogWriter;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.KeyIndexer;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.StoreConfig;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What the access log costs per row at a proxy's steady rate, as the daemon runs it: the real writer and key
 * indexer on an H2 file, rows handed over at a fixed rate (not flat out, as in AccessLogInsertBenchmark), with
 * the host and client variety of {@link MillionRowAccessLog} (about 5,000 hosts, 1,000 clients; the peer
 * harness sends one host from one client, which flatters the key index). Reports, per row, the CPU time and
 * the bytes allocated by the writer's and the indexer's threads and the bytes written to the file. Those
 * depend far less on how busy a shared machine is than a rate does, so two store settings can be compared
 * one after the other. The log is first filled with {@code prefillRows} rows and indexed, so that the key
 * index has the size of a log that has run for a while.
 *
 * <pre>
 * java -cp target/benchmarks.jar dev.tollgate.bench.AccessLogSteadyLoad [rowsPerSecond] [seconds] [prefillRows]
 *      [urlSettings]      # defaults 15000 20 1000000 "", e.g. ";CACHE_SIZE=4096" is appended to the URL
 * java -Dsteady.noIndexer=true -cp ...   # the writer alone: the key indexer stopped after the prefill
 * </pre>
 */
public final class AccessLogSteadyLoad {

    private static final long SEED = 20261128L;

    private AccessLogSteadyLoad() {
    }

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 15_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int prefill = args.length > 2 ? Integer.parseInt(args[2]) : 1_000_000;
        String settings = args.length > 3 ? args[3] : "";
        Path dir = MillionRowAccessLog.dataDir().resolve("steady");
        MillionRowAccessLog.deleteRecursively(dir);
        String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("access") + settings;
        Random random = new Random(SEED);
        try (AccessLog log = AccessLog.open(new StoreConfig(url, null, null, null, null, 100_000))) {
            long started = System.nanoTime();
            for (int i = 0; i < prefill; i++) {
                log.writer().append(row(random));
            }
            if (!log.writer().flush(600_000)) {
                throw new IllegalStateException("prefill did not finish");
            }
            log.keyIndexer().indexNow();
            boolean indexing = !Boolean.getBoolean("steady.noIndexer");
            if (!indexing) {
                log.keyIndexer().close();
            }
            System.out.printf("prefilled %,d rows in %,d ms (%s)%n", prefill,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), url);

            Usage writer = Usage.of(AccessLogWriter.THREAD_NAME);
            Usage indexer = indexing ? Usage.of(KeyIndexer.THREAD_NAME) : null;
            long fileWrites = writtenBytes();
            long rows = offerAtRate(log, random, rate, seconds);
            if (!log.writer().flush(600_000)) {
                throw new IllegalStateException("the writer did not catch up");
            }
            long behind = log.writer().written() - log.keyIndexer().indexed();
            writer.end();
            if (indexer != null) {
                indexer.end();
            }
            long written = writtenBytes() - fileWrites;
            System.out.printf("%,d rows at %,d rows/s; indexer %,d rows behind at the end%n", rows, rate, behind);
            System.out.printf("writer : %6.2f us CPU, %,8d bytes allocated per row%n",
                    writer.cpuNanos / 1_000.0 / rows, writer.allocated / rows);
            if (indexer != null) {
                System.out.printf("indexer: %6.2f us CPU, %,8d bytes allocated per row%n",
                        indexer.cpuNanos / 1_000.0 / rows, indexer.allocated / rows);
            }
            System.out.printf("written: %,d bytes per row (the process's write calls, H2's file)%n", written / rows);
        }
        MillionRowAccessLog.deleteRecursively(dir);
    }

    /** Hands rows to the writer at {@code rate} per second for {@code seconds}, in 1 ms slices. */
    private static long offerAtRate(AccessLog log, Random random, int rate, int seconds) {
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        long sent = 0;
        for (long now = start; now < end; now = System.nanoTime()) {
            long due = (now - start) * rate / 1_000_000_000L;
            while (sent < due) {
                log.writer().append(row(random));
                sent++;
            }
            LockSupport.parkNanos(1_000_000);
        }
        return sent;
    }

    /** A row of today, its host and client drawn as in the million-row log. */
    private static AccessRecord row(Random random) {
        String client = MillionRowAccessLog.drawClient(random);
        int clientPort = 1_024 + random.nextInt(60_000);
        String host = MillionRowAccessLog.drawHost(random);
        return new AccessRecord(null, System.currentTimeMillis(), random.nextInt(500), "bench-node", "public", client,
                clientPort, null, Kind.FORWARD, "HTTP/1.1", "GET", host, 80, "/p/" + random.nextInt(1_000), 200,
                random.nextInt(10_000), random.nextInt(1_000_000), "192.0.2." + random.nextInt(256), null, Outcome.OK,
                null);
    }

    /** Bytes this process has handed to write(2) so far (Linux's /proc/self/io, "wchar"); -1 elsewhere. */
    private static long writtenBytes() throws IOException {
        Path io = Path.of("/proc/self/io");
        if (!Files.isReadable(io)) {
            return -1;
        }
        for (String line : Files.readAllLines(io)) {
            if (line.startsWith("wchar:")) {
                return Long.parseLong(line.substring("wchar:".length()).trim());
            }
        }
        return -1;
    }

    /** CPU time and allocated bytes of the one live thread named {@code name}, from now until {@link #end}. */
    private static final class Usage {
        private static final com.sun.management.ThreadMXBean THREADS =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private final long id;
        private long cpuNanos;
        private long allocated;

        private Usage(long id) {
            this.id = id;
            this.cpuNanos = -THREADS.getThreadCpuTime(id);
            this.allocated = -THREADS.getThreadAllocatedBytes(id);
        }

        static Usage of(String name) {
            return new Usage(Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no thread " + name)).getId());
        }

        void end() {
            cpuNanos += THREADS.getThreadCpuTime(id);
            allocated += THREADS.getThreadAllocatedBytes(id);
        }
    }
}
