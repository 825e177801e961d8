package dev.tollgate.testing.origins;

import dev.tollgate.testing.RawHttpConnection;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bare TCP origin on 127.0.0.1 and a kernel-chosen port, one thread per connection, that counts what reached
 * it: connections accepted and requests received whole. With no script it is a minimal HTTP/1.1 server that
 * reads each request (head, then a body framed by Content-Length or chunked encoding), keeps its head as it
 * arrived, and answers {@code 200} with the body {@code ok}, keeping the connection open. A script replaces
 * that per connection, to misbehave: refuse to answer, cut a body, send a broken head, echo bytes.
 *
 * <p>A case that must not forward anything asserts {@link #connections()} is 0; one whose request may have been
 * started upstream before the proxy saw the fault asserts {@link #requests()} is 0 (no request reached the
 * origin whole, so nothing was smuggled).
 */
public final class RawOrigin implements AutoCloseable {

    /** What the origin does with each accepted connection; the origin closes the socket afterwards. */
    @FunctionalInterface
    public interface Script {
        void serve(Socket socket, RawOrigin origin) throws IOException;
    }

    /** How long a connection thread waits for bytes, so that no thread outlives a test. */
    private static final int READ_TIMEOUT_MS = 60_000;
    private static final int BACKLOG = 512;

    private final ServerSocket server;
    private final Script script;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    // False for long runs (the soak): every head and body kept would be heap the soak counts as the daemon's.
    private final boolean keepsRequests;
    private final List<String> heads = new CopyOnWriteArrayList<>();
    private final List<byte[]> bodies = new CopyOnWriteArrayList<>();
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    private RawOrigin(Script script, boolean keepsRequests) throws IOException {
        this.script = script;
        this.keepsRequests = keepsRequests;
        server = new ServerSocket(0, BACKLOG, RawHttpConnection.loopback());
        acceptor = new Thread(this::acceptLoop, "raw-origin-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** An origin that answers every whole request 200 {@code ok}. */
    public static RawOrigin answering() throws IOException {
        return new RawOrigin(RawOrigin::answerEachRequest, true);
    }

    /** As {@link #answering()}, counting requests without keeping their heads and bodies. */
    public static RawOrigin answeringWithoutKeeping() throws IOException {
        return new RawOrigin(RawOrigin::answerEachRequest, false);
    }

    /** An origin whose every connection is served by {@code script}. */
    public static RawOrigin scripted(Script script) throws IOException {
        return new RawOrigin(script, true);
    }

    /** A port on 127.0.0.1 where nothing listens (bound, then released): a dial to it is refused. */
    public static int closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, RawHttpConnection.loopback())) {
            return probe.getLocalPort();
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String base() {
        return "http://127.0.0.1:" + port();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Requests received whole (head and framed body) so far. */
    public int requests() {
        return requests.get();
    }

    /** The heads of the requests received whole, as they arrived (CRLFs included). */
    public List<String> heads() {
        return List.copyOf(heads);
    }

    /** The bodies of the requests received whole, in order. */
    public List<byte[]> bodies() {
        return List.copyOf(bodies);
    }

    /** Stops accepting and closes every open connection. Safe to call more than once. */
    @Override
    public void close() throws Exception {
        server.close();
        for (Socket socket : accepted) {
            socket.close();
        }
        acceptor.join(10_000);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            accepted.add(socket);
            Thread worker = new Thread(() -> {
                try (socket) {
                    socket.setSoTimeout(READ_TIMEOUT_MS);
                    script.serve(socket, this);
                } catch (IOException | RuntimeException e) {
                    // The peer or close() ended the connection.
                } finally {
                    accepted.remove(socket);
                }
            }, "raw-origin-" + socket.getPort());
            worker.setDaemon(true);
            worker.start();
        }
    }

    /** The default script: reads whole requests one after another and answers each {@code 200 ok}. */
    public static void answerEachRequest(Socket socket, RawOrigin origin) throws IOException {
        InputStream in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        while (origin.readRequest(in) != null) {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
    }

    /**
     * Reads one request; counts it and returns its head when it arrived whole, or returns null when the
     * connection ended (or broke) before that.
     */
    public String readRequest(InputStream in) throws IOException {
        String head = readHead(in);
        if (head == null) {
            return null;
        }
        byte[] body = readBody(in, head);
        if (body == null) {
            return null;
        }
        requests.incrementAndGet();
        if (keepsRequests) {
            heads.add(head);
            bodies.add(body);
        }
        return head;
    }

    /** The header section up to and including the blank line; null if the connection ends or breaks first. */
    public static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        byte[] end = {'\r', '\n', '\r', '\n'};
        int matched = 0;
        while (matched < end.length) {
            int b;
            try {
                b = in.read();
            } catch (IOException e) {
                return null;
            }
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** The body framed as {@code head} says; null if the connection ends before the framing is met. */
    private static byte[] readBody(InputStream in, String head) {
        String lower = head.toLowerCase(Locale.ROOT);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try {
            if (lower.contains("\r\ntransfer-encoding:") && lower.contains("chunked")) {
                while (true) {
                    String sizeLine = readLine(in);
                    if (sizeLine == null) {
                        return null;
                    }
                    int semicolon = sizeLine.indexOf(';');
                    int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(),
                            16);
                    if (size == 0) {
                        String trailer;
                        do {
                            trailer = readLine(in);
                            if (trailer == null) {
                                return null;
                            }
                        } while (!trailer.isEmpty());
                        return body.toByteArray();
                    }
                    byte[] chunk = in.readNBytes(size);
                    if (chunk.length < size || readLine(in) == null) {
                        return null;
                    }
                    body.write(chunk);
                }
            }
            int at = lower.indexOf("\r\ncontent-length:");
            if (at < 0) {
                return body.toByteArray();
            }
            int lineEnd = lower.indexOf("\r\n", at + 2);
            int length = Integer.parseInt(lower.substring(at + "\r\ncontent-length:".length(), lineEnd).trim());
            byte[] bytes = in.readNBytes(length);
            return bytes.length < length ? null : bytes;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return null;
    }
}
