package dev.tollgate.bench;

import dev.tollgate.daemon.Daemon;
import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.tls.LocalCa;
import dev.tollgate.testing.CaTrust;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The interception benchmark of docs/performance.md ("TLS interception"): an in-process daemon with durable
 * access logging (H2, as shipped), the test kit's Jetty TLS origin and the clients share this JVM and the
 * machine's cores, so the figures are lower bounds and ratios, not capacity. Measures full intercepted handshakes
 * per second (CONNECT, 200, TLS handshake with a cached leaf, no resumption) against plain tunnelled handshakes
 * with the origin, and sequential keep-alive requests per second inside one intercepted connection and over
 * several at once. Until 2026-12 this was InterceptBenchIT in proxy-daemon's tests.
 *
 * <pre>
 * java -cp target/benchmarks.jar dev.tollgate.bench.InterceptionLoad
 * # -Dtollgate.bench.seconds=10 -Dtollgate.bench.rounds=3 -Dtollgate.bench.threads=4 are the defaults
 * </pre>
 */
public final class InterceptionLoad {

    private static final int SECONDS = Integer.getInteger("tollgate.bench.seconds", 10);
    private static final int ROUNDS = Integer.getInteger("tollgate.bench.rounds", 3);
    private static final int THREADS = Integer.getInteger("tollgate.bench.threads", 4);

    private InterceptionLoad() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("tollgate-interception-bench");
        try (WebOrigin origin = WebOrigin.tls(dir)) {
            Path originPem = origin.writeCertificatePem(dir.resolve("origin.pem"));
            String listener = "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": ["
                    + origin.port() + "], \"intercept\": {\"enabled\": true, \"bypass\": [\"127.0.0.1\"],"
                    + " \"trustBundle\": \"" + originPem + "\"}}";
            try (Daemon tollgate = Daemon.start(ConfigLoader.parse("benchmark config", "{\"stateDir\": \""
                    + dir + "\", \"admin\": {\"port\": 0}, \"store\": {\"sqlPort\": -1}, \"listeners\": ["
                    + listener + "]}"))) {
                SSLContext trustingCa = CaTrust.trustingOnly(LocalCa.loadOrCreate(dir).certificate());
                SSLContext trustingOrigin = origin.clientSslContext();
                // localhost is intercepted; 127.0.0.1 (the same origin) is on the bypass list: tunnelled.
                report("intercepted handshakes/s (CONNECT + TLS with Tollgate, " + THREADS + " clients)",
                        () -> handshakes(tollgate, trustingCa, "localhost", origin.port()));
                report("tunnelled handshakes/s (CONNECT + TLS with the origin, " + THREADS + " clients)",
                        () -> handshakes(tollgate, trustingOrigin, "127.0.0.1", origin.port()));
                report("intercepted requests/s, 1 keep-alive connection",
                        () -> requests(tollgate, trustingCa, "localhost", origin.port(), 1));
                report("intercepted requests/s, " + THREADS + " keep-alive connections",
                        () -> requests(tollgate, trustingCa, "localhost", origin.port(), THREADS));
                report("tunnelled requests/s, " + THREADS + " keep-alive connections",
                        () -> requests(tollgate, trustingOrigin, "127.0.0.1", origin.port(), THREADS));
            }
        } finally {
            MillionRowAccessLog.deleteRecursively(dir);
        }
    }

    @FunctionalInterface
    private interface Measure {
        double perSecond() throws Exception;
    }

    private static void report(String what, Measure measure) throws Exception {
        measure.perSecond(); // warm-up round
        double[] rounds = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            rounds[i] = measure.perSecond();
        }
        double[] sorted = rounds.clone();
        Arrays.sort(sorted);
        System.out.printf("BENCH %-75s median %8.0f  rounds %s%n", what, sorted[ROUNDS / 2],
                Arrays.toString(Arrays.stream(rounds).map(Math::rint).toArray()));
    }

    private static double handshakes(Daemon tollgate, SSLContext trust, String host, int port)
            throws Exception {
        return concurrently(THREADS, done -> {
            try (Socket raw = connect(tollgate, host, port);
                 SSLSocket tls = (SSLSocket) trust.getSocketFactory().createSocket(raw, host, port, true)) {
                tls.startHandshake();
                // A full handshake each time: no session resumption.
                tls.getSession().invalidate();
            }
            done.increment();
        });
    }

    private static double requests(Daemon tollgate, SSLContext trust, String host, int port,
                                   int connections) throws Exception {
        List<SSLSocket> sockets = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            SSLSocket tls = (SSLSocket) trust.getSocketFactory().createSocket(connect(tollgate, host, port), host,
                    port, true);
            tls.startHandshake();
            sockets.add(tls);
        }
        try {
            List<InputStream> inputs = new ArrayList<>();
            for (SSLSocket socket : sockets) {
                inputs.add(new BufferedInputStream(socket.getInputStream()));
            }
            byte[] request = ("GET /hello HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            AtomicInteger next = new AtomicInteger();
            ThreadLocal<Integer> mine = ThreadLocal.withInitial(next::getAndIncrement);
            return concurrently(connections, done -> {
                int index = mine.get();
                OutputStream out = sockets.get(index).getOutputStream();
                out.write(request);
                out.flush();
                readResponse(inputs.get(index));
                done.increment();
            });
        } finally {
            for (SSLSocket socket : sockets) {
                socket.close();
            }
        }
    }

    @FunctionalInterface
    private interface Step {
        void run(LongAdder done) throws Exception;
    }

    private static double concurrently(int threads, Step step) throws Exception {
        LongAdder done = new LongAdder();
        long end = System.nanoTime() + SECONDS * 1_000_000_000L;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        step.run(done);
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
            return done.sum() / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    private static Socket connect(Daemon tollgate, String host, int port) throws IOException {
        Socket raw = new Socket(InetAddress.getLoopbackAddress(), tollgate.listenerPort("main"));
        raw.setTcpNoDelay(true);
        raw.setSoTimeout(30_000);
        raw.getOutputStream().write(("CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        String head = RawHttpConnection.readHead(raw.getInputStream());
        if (!head.startsWith("HTTP/1.1 200")) {
            throw new IOException("CONNECT refused: " + head);
        }
        return raw;
    }

    /** Reads one response with a Content-Length body (the origin's /hello). */
    private static void readResponse(InputStream in) throws IOException {
        String head = RawHttpConnection.readHead(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        if (!head.startsWith("HTTP/1.1 200")) {
            throw new IOException("unexpected response: " + head);
        }
        in.readNBytes(length);
    }
}
