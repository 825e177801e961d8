package dev.tollgate.daemon.battery;

import dev.tollgate.admin.AdminTokens;
import dev.tollgate.daemon.EchoServer;
import dev.tollgate.daemon.RawHttpConnection;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The soak (issue #10): forwarded requests, tunnels and admin calls at once against one daemon for
 * {@code -Dsoak.minutes} (2 by default, for CI; docs/reliability.md says how to run it longer). Heap after GC,
 * open file descriptors and threads are sampled every {@code -Dsoak.sampleSeconds} (20) and must be flat at the
 * end: within a tolerance of the first sample after warm-up, compared as numbers, not as times. Every request
 * must succeed and leave its row. The samples are printed and written to target/soak-figures.txt.
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

    @TempDir
    Path dir;

    record Sample(long atSeconds, long heapAfterGcBytes, long openFds, int threads, long requests, long tunnels,
                  long adminCalls) {
        String line() {
            return String.format("%6d s  heap after GC %6.1f MiB  fds %5d  threads %4d  requests %8d  tunnels %6d"
                    + "  admin calls %5d", atSeconds, heapAfterGcBytes / 1048576.0, openFds, threads, requests,
                    tunnels, adminCalls);
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
        try (RawOrigin origin = RawOrigin.answering();
             EchoServer echo = EchoServer.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            String token = Files.readString(dir.resolve(AdminTokens.ADMIN_FILE)).trim();
            ExecutorService workers = Executors.newFixedThreadPool(FORWARD_WORKERS + TUNNEL_WORKERS + 1);
            List<Future<?>> running = new ArrayList<>();
            try {
                for (int i = 0; i < FORWARD_WORKERS; i++) {
                    running.add(workers.submit(() -> forwardLoop(tollgate.port(), origin, end, requests)));
                }
                for (int i = 0; i < TUNNEL_WORKERS; i++) {
                    int seed = i;
                    running.add(workers.submit(() -> tunnelLoop(tollgate.port(), echo.port(), end, tunnels, seed)));
                }
                running.add(workers.submit(() -> adminLoop(tollgate.adminPort(), token, end, adminCalls)));

                long nextSample = started;
                while (System.nanoTime() < end && running.stream().noneMatch(Future::isDone)) {
                    if (System.nanoTime() >= nextSample) {
                        samples.add(sample(started, requests, tunnels, adminCalls));
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
            Sample last = sample(started, requests, tunnels, adminCalls);
            samples.add(last);
            System.out.println("soak " + last.line() + " (load stopped)");
            writeFigures(samples);

            // The first sample is the daemon before load; the second is the first under load (warmed up).
            Sample base = samples.size() > 2 ? samples.get(1) : samples.get(0);
            assertTrue(last.heapAfterGcBytes() <= base.heapAfterGcBytes() + HEAP_TOLERANCE_BYTES,
                    () -> "heap after GC grew: " + figures(samples));
            assertTrue(last.openFds() <= base.openFds() + FD_TOLERANCE, () -> "fds grew: " + figures(samples));
            assertTrue(last.threads() <= base.threads() + THREAD_TOLERANCE, () -> "threads grew: "
                    + figures(samples));

            long expectedRows = requests.get() + tunnels.get();
            List<AccessRecord> rows = tollgate.awaitRows((int) expectedRows);
            assertEquals(expectedRows, rows.size(), "one row per request and per tunnel");
            assertTrue(rows.stream().allMatch(r -> r.outcome() == Outcome.OK), "every soak request succeeded");
        }
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
    private static Void adminLoop(int adminPort, String token, long end, AtomicLong calls) throws Exception {
        HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
        String base = "http://127.0.0.1:" + adminPort + "/api/v1";
        for (long i = 0; i < MAX_ITERATIONS && System.nanoTime() < end; i++) {
            expect(http, HttpRequest.newBuilder(URI.create(base + "/stats")).GET(), token, 200);
            expect(http, HttpRequest.newBuilder(URI.create(base + "/listeners")).header("Content-Type",
                    "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"soak\", \"port\": 0}")),
                    token, 201);
            expect(http, HttpRequest.newBuilder(URI.create(base + "/listeners/soak?drainMs=0")).DELETE(), token, 204);
            expect(http, HttpRequest.newBuilder(URI.create(base + "/access-log?limit=10")).GET(), token, 200);
            calls.addAndGet(4);
        }
        return null;
    }

    private static void expect(HttpClient http, HttpRequest.Builder request, String token, int status)
            throws Exception {
        HttpResponse<String> response = http.send(request.header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(status, response.statusCode(), response::body);
    }

    private static Sample sample(long started, AtomicLong requests, AtomicLong tunnels, AtomicLong adminCalls)
            throws IOException {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long fds;
        try (Stream<Path> open = Files.list(Path.of("/proc/self/fd"))) {
            fds = open.count();
        }
        return new Sample(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), heap, fds,
                ManagementFactory.getThreadMXBean().getThreadCount(), requests.get(), tunnels.get(), adminCalls.get());
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
                    + Runtime.getRuntime().maxMemory() / 1048576 + " MiB max heap, " + Arrays.toString(new int[] {
                    FORWARD_WORKERS, TUNNEL_WORKERS, 1}) + " forward/tunnel/admin workers" + figures(samples) + "\n");
        }
    }
}
