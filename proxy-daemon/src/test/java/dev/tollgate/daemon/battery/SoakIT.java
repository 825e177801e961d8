package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.TollgateProcess;
import dev.tollgate.store.AccessLog;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The soak (issue #10): forwarded requests, tunnels and admin calls at once against one daemon for
 * {@code -Dsoak.minutes} (2 by default, for CI; docs/reliability.md says how to run it longer). The daemon is a
 * child process with the packaged collector and a small heap, so that what is sampled is the daemon's alone
 * and not this JVM's clients: its live heap (the total of {@code jcmd PID GC.class_histogram}, which collects first),
 * open file descriptors and threads, every {@code -Dsoak.sampleSeconds} (20). They must be flat at the end:
 * within a tolerance of the first sample under load, compared as numbers, not as times. Every request must
 * succeed and leave its row, counted in the database after a SIGTERM. The samples are printed and written to
 * target/soak-figures.txt.
 */
class SoakIT {

    private static final double MINUTES = Double.parseDouble(System.getProperty("soak.minutes", "2"));
    private static final long SAMPLE_SECONDS = Long.getLong("soak.sampleSeconds", 20);
    private static final int FORWARD_WORKERS = 4;
    private static final int TUNNEL_WORKERS = 2;
    private static final int TUNNEL_BYTES = 64 * 1024;
    /** A bound on each worker's loop besides the clock, so that no loop is unbounded. */
    private static final long MAX_ITERATIONS = 100_000_000L;
    private static final long HEAP_TOLERANCE_BYTES = 32L * 1024 * 1024;
    private static final int FD_TOLERANCE = 32;
    private static final int THREAD_TOLERANCE = 16;
    private static final List<String> CHILD_JVM = List.of("-XX:+UseParallelGC", "-Xms64m", "-Xmx256m");
    private static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern HISTOGRAM_TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");
    private static final int HISTOGRAM_LINES = 15;
    private static final Duration START_LIMIT = Duration.ofSeconds(60);
    private static final Pattern QUEUE_DEPTH = Pattern.compile("\"queueDepth\"\\s*:\\s*(\\d+)");

    @TempDir
    Path dir;

    record Sample(long atSeconds, long liveHeapBytes, long openFds, int threads, long queued, long requests,
                  long tunnels, long adminCalls, String histogramHead) {
        String line() {
            return String.format("%6d s  live heap %6.1f MiB  fds %5d  threads %4d  queued records %6d"
                    + "  requests %8d  tunnels %6d  admin calls %5d", atSeconds, liveHeapBytes / 1048576.0, openFds,
                    threads, queued, requests, tunnels, adminCalls);
        }
    }

    @Test
    void mixedForwardTunnelAndAdminLoadLeavesHeapFdsAndThreadsFlat() throws Exception {
        AtomicLong requests = new AtomicLong();
        AtomicLong tunnels = new AtomicLong();
        AtomicLong adminCalls = new AtomicLong();
        List<Sample> samples = new ArrayList<>();
        long started = System.nanoTime();
        long end = started + (long) (MINUTES * 60e9);
        try (RawOrigin origin = RawOrigin.answeringWithoutKeeping();
             EchoOrigin echo = EchoOrigin.startWithoutKeeping()) {
            Path stateDir = dir.resolve("state");
            Path config = dir.resolve("tollgate.json");
            Files.writeString(config, "{\"stateDir\": \"" + stateDir + "\", \"admin\": {\"port\": 0},"
                    + " \"store\": {\"sqlPort\": -1}, \"listeners\": [" + RunningTollgate.loopbackListener(echo.port())
                    + "]}");
            TollgateProcess child = TollgateProcess.launchWithJvmOptions(dir, CHILD_JVM, "run", "--config",
                    config.toString());
            try {
                int port = Integer.parseInt(child.awaitLine(LISTENING, START_LIMIT).group(1));
                int adminPort = Integer.parseInt(child.awaitLine(ADMIN, START_LIMIT).group(1));
                AdminClient admin = AdminClient.asAdmin(stateDir, adminPort);
                long pid = child.pid();
                ExecutorService workers = Executors.newFixedThreadPool(FORWARD_WORKERS + TUNNEL_WORKERS + 1);
                List<Future<?>> running = new ArrayList<>();
                try {
                    for (int i = 0; i < FORWARD_WORKERS; i++) {
                        running.add(workers.submit(() -> forwardLoop(port, origin, end, requests)));
                    }
                    for (int i = 0; i < TUNNEL_WORKERS; i++) {
                        int seed = i;
                        running.add(workers.submit(() -> tunnelLoop(port, echo.port(), end, tunnels, seed)));
                    }
                    running.add(workers.submit(() -> adminLoop(admin, end, adminCalls)));

                    long nextSample = started;
                    while (System.nanoTime() < end && running.stream().noneMatch(Future::isDone)) {
                        if (System.nanoTime() >= nextSample) {
                            samples.add(sample(pid, admin, started, requests, tunnels, adminCalls));
                            System.out.println("soak " + samples.get(samples.size() - 1).line());
                            nextSample += TimeUnit.SECONDS.toNanos(SAMPLE_SECONDS);
                        }
                        Thread.sleep(200);
                    }
                    for (Future<?> worker : running) {
                        worker.get(2, TimeUnit.MINUTES);
                    }
                } finally {
                    workers.shutdownNow();
                    assertTrue(workers.awaitTermination(1, TimeUnit.MINUTES), "load workers stopped");
                }
                // Under load the access log's queue holds up to queueCapacity records, each a few hundred bytes
                // to a few KiB of heap: bounded, but it comes and goes with the writer's lag. The last sample is
                // taken once the writer has caught up, so that it shows what the daemon keeps, not what is in
                // flight.
                Poll.until("the writer catching up after the load", Duration.ofMinutes(2),
                        () -> queued(admin) == 0);
                Sample last = sample(pid, admin, started, requests, tunnels, adminCalls);
                samples.add(last);
                System.out.println("soak " + last.line() + " (load stopped, writer caught up)");
                writeFigures(samples);

                // Against the daemon before any load: the tolerance covers what fills once and stays (H2's page
                // cache of 16 MB, Jetty's buffer pools, compiled code's data), not what grows with the load.
                Sample base = samples.get(0);
                assertTrue(last.liveHeapBytes() <= base.liveHeapBytes() + HEAP_TOLERANCE_BYTES,
                        () -> "live heap grew: " + figures(samples) + "\nlargest classes at the end:\n"
                                + last.histogramHead());
                assertTrue(last.openFds() <= base.openFds() + FD_TOLERANCE, () -> "fds grew: " + figures(samples));
                assertTrue(last.threads() <= base.threads() + THREAD_TOLERANCE, () -> "threads grew: "
                        + figures(samples));

                child.sigterm();
                assertEquals(0, child.awaitExit(Duration.ofMinutes(1)), child::output);
                assertFalse(child.output().contains("OutOfMemoryError"), child::output);
            } finally {
                child.kill();
            }
            long expectedRows = requests.get() + tunnels.get();
            try (Connection db = DriverManager.getConnection("jdbc:h2:file:" + stateDir.resolve("access")
                    + ";IFEXISTS=TRUE", "tollgate", Files.readString(stateDir.resolve(AccessLog.OWNER_PASSWORD_FILE))
                    .trim());
                 Statement s = db.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), COUNT(CASE WHEN outcome = 'OK' THEN 1 END)"
                         + " FROM access_log")) {
                rs.next();
                assertEquals(expectedRows, rs.getLong(1), "one row per request and per tunnel");
                long ok = rs.getLong(2);
                assertEquals(expectedRows, ok, () -> "every soak request succeeded; the others: "
                        + notOk(db));
            }
        }
    }

    /** The rows whose outcome is not OK (at most 20), for the failure message. */
    private static String notOk(Connection db) {
        StringBuilder rows = new StringBuilder();
        try (Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("SELECT kind, method, host, port, status, outcome, reason, duration_ms,"
                     + " bytes_from_client, bytes_to_client FROM access_log WHERE outcome <> 'OK' LIMIT 20")) {
            while (rs.next()) {
                rows.append("\n  ");
                for (int i = 1; i <= 10; i++) {
                    rows.append(rs.getString(i)).append(i < 10 ? " | " : "");
                }
            }
        } catch (java.sql.SQLException e) {
            rows.append(" (could not read them: ").append(e).append(')');
        }
        return rows.toString();
    }

    /** GET after GET on a keep-alive connection, a new connection every 100 requests. */
    private static Void forwardLoop(int proxyPort, RawOrigin origin, long end, AtomicLong requests)
            throws IOException {
        for (long i = 0; i < MAX_ITERATIONS && System.nanoTime() < end; ) {
            try (RawHttpConnection connection = RawHttpConnection.open(proxyPort)) {
                for (int j = 0; j < 100 && System.nanoTime() < end; j++, i++) {
                    Battery.assertReusable(connection, origin);
                    requests.incrementAndGet();
                }
            }
        }
        return null;
    }

    /** A tunnel to the echo server, 64 KiB there and back, closed; again. */
    private static Void tunnelLoop(int proxyPort, int echoPort, long end, AtomicLong tunnels, int seed)
            throws IOException {
        byte[] payload = new byte[TUNNEL_BYTES];
        new Random(seed).nextBytes(payload);
        for (long i = 0; i < MAX_ITERATIONS && System.nanoTime() < end; i++) {
            try (Socket socket = new Socket()) {
                socket.setSoTimeout(30_000);
                socket.connect(new InetSocketAddress(RawHttpConnection.loopback(), proxyPort), 10_000);
                OutputStream out = socket.getOutputStream();
                out.write(("CONNECT 127.0.0.1:" + echoPort + " HTTP/1.1\r\nHost: 127.0.0.1:" + echoPort
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                String head = RawOrigin.readHead(in);
                assertTrue(head != null && head.startsWith("HTTP/1.1 200"), String.valueOf(head));
                out.write(payload);
                out.flush();
                socket.shutdownOutput();
                assertArrayEquals(payload, in.readAllBytes());
            }
            tunnels.incrementAndGet();
        }
        return null;
    }

    /** Stats, a listener created and deleted, the access log's newest rows; again. */
    private static Void adminLoop(AdminClient admin, long end, AtomicLong calls) throws Exception {
        for (long i = 0; i < MAX_ITERATIONS && System.nanoTime() < end; i++) {
            admin.get("/api/v1/stats").expect(200);
            admin.post("/api/v1/listeners", "{\"name\": \"soak\", \"port\": 0}").expect(201);
            admin.delete("/api/v1/listeners/soak?drainMs=0").expect(204);
            admin.get("/api/v1/access-log?limit=10").expect(200);
            calls.addAndGet(4);
        }
        return null;
    }

    private static Sample sample(long pid, AdminClient admin, long started, AtomicLong requests,
                                 AtomicLong tunnels, AtomicLong adminCalls) throws IOException, InterruptedException {
        long queuedNow = queued(admin);
        // The class histogram collects and then counts what is left in one safepoint: the live heap. Reading
        // GC.heap_info after a GC.run instead also counted what the load allocated between the two commands,
        // tens of MiB of young objects at these rates, and made the figures swing.
        String histogram = jcmd(pid, "GC.class_histogram");
        Matcher total = HISTOGRAM_TOTAL.matcher(histogram);
        assertTrue(total.find(), () -> "jcmd GC.class_histogram printed no total: " + histogram);
        long liveBytes = Long.parseLong(total.group(1));
        long fds;
        try (Stream<Path> open = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            fds = open.count();
        }
        int threads = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(line -> line.startsWith("Threads:"))
                .mapToInt(line -> Integer.parseInt(line.substring("Threads:".length()).trim())).findFirst()
                .orElseThrow();
        return new Sample(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), liveBytes, fds, threads,
                queuedNow, requests.get(), tunnels.get(), adminCalls.get(),
                histogram.lines().limit(HISTOGRAM_LINES).collect(Collectors.joining("\n")));
    }

    /** The access-log records waiting to be written, from the admin API's stats. */
    private static long queued(AdminClient admin) {
        try {
            AdminClient.Reply stats = admin.get(AdminClient.STATS).expect(200);
            Matcher depth = QUEUE_DEPTH.matcher(stats.text());
            assertTrue(depth.find(), stats::toString);
            return Long.parseLong(depth.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code jcmd PID COMMAND} from this JDK and returns its output. */
    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), command).redirectErrorStream(true).start();
        String output = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(jcmd.waitFor(1, TimeUnit.MINUTES) && jcmd.exitValue() == 0, "jcmd " + command + ": " + output);
        return output;
    }

    private static String figures(List<Sample> samples) {
        StringBuilder text = new StringBuilder();
        for (Sample sample : samples) {
            text.append('\n').append(sample.line());
        }
        return text.toString();
    }

    private static void writeFigures(List<Sample> samples) throws IOException {
        Path target = Path.of("target");
        if (Files.isDirectory(target)) {
            Files.writeString(target.resolve("soak-figures.txt"), "soak.minutes=" + MINUTES + ", "
                    + "child daemon " + CHILD_JVM + ", " + Arrays.toString(new int[] {
                    FORWARD_WORKERS, TUNNEL_WORKERS, 1}) + " forward/tunnel/admin workers" + figures(samples) + "\n");
        }
    }
}
