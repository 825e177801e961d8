package dev.tollgate.daemon.audit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load the kill -9 tests put on a daemon: {@code GET /hello?i=N} (N counting up across all connections) on
 * several keep-alive connections through the proxy to a {@code WebOrigin}, until {@link #stop}, noting when each
 * complete response had been read. An error before the stop is kept as unexpected; after it (the daemon killed)
 * it ends that connection quietly.
 */
final class HelloLoad implements AutoCloseable {

    /** The path the load's requests are logged under, {@code i} the request's number. */
    static final Pattern HELLO_PATH = Pattern.compile("^/hello\\?i=(-?\\d+)$");

    private final Map<Integer, Long> completedAtNanos = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final List<Throwable> unexpected = new CopyOnWriteArrayList<>();
    private final List<Thread> workers = new ArrayList<>();

    private HelloLoad() {
    }

    /** Starts {@code connections} workers through the proxy on {@code proxyPort} to the origin on {@code originPort}. */
    static HelloLoad start(int connections, int proxyPort, int originPort) {
        HelloLoad load = new HelloLoad();
        for (int w = 0; w < connections; w++) {
            Thread worker = new Thread(() -> load.keepRequesting(proxyPort, originPort), "load-" + w);
            worker.setDaemon(true);
            worker.start();
            load.workers.add(worker);
        }
        return load;
    }

    /** Requests whose whole response was read, by number, with when it was. */
    Map<Integer, Long> completedAtNanos() {
        return completedAtNanos;
    }

    /** Errors met before {@link #stop}. */
    List<Throwable> unexpected() {
        return unexpected;
    }

    /** Marks the load stopped (errors from now on are expected: call it before killing the daemon). */
    void stop() {
        stopped.set(true);
    }

    /** Stops and waits for the workers to end. */
    @Override
    public void close() throws InterruptedException {
        stop();
        for (Thread worker : workers) {
            worker.join(TimeUnit.SECONDS.toMillis(60));
        }
    }

    private void keepRequesting(int proxyPort, int originPort) {
        String origin = "127.0.0.1:" + originPort;
        while (!stopped.get()) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", proxyPort), 10_000);
                socket.setSoTimeout(30_000);
                socket.setTcpNoDelay(true);
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream());
                while (!stopped.get()) {
                    int i = next.getAndIncrement();
                    out.write(("GET http://" + origin + "/hello?i=" + i + " HTTP/1.1\r\nHost: " + origin
                            + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    readHelloResponse(in);
                    completedAtNanos.put(i, System.nanoTime());
                }
            } catch (IOException | RuntimeException e) {
                if (!stopped.get()) {
                    unexpected.add(e);
                }
                return;
            }
        }
    }

    /** Reads one keep-alive response to {@code /hello} (status 200, Content-Length 5, body hello). */
    private static void readHelloResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a response head: " + head);
            }
            head.append((char) b);
        }
        if (!head.toString().startsWith("HTTP/1.1 200 ")) {
            throw new IllegalStateException("not a 200: " + head);
        }
        Matcher length = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head);
        if (!length.find()) {
            throw new IllegalStateException("no Content-Length: " + head);
        }
        byte[] body = in.readNBytes(Integer.parseInt(length.group(1)));
        if (!"hello".equals(new String(body, StandardCharsets.UTF_8))) {
            throw new IOException("body cut short: " + new String(body, StandardCharsets.UTF_8));
        }
    }
}
