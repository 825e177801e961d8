package dev.tollgate.daemon.egress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A loopback origin that is not a TLS server: it keeps the first TLS record of each connection (the client's
 * ClientHello, as it arrived through the tunnel) and closes; or, started with a greeting, speaks first (as SMTP or
 * SSH do) and then echoes. Counts every byte it ever received.
 */
final class CapturingOrigin implements AutoCloseable {

    private final ServerSocket server;
    private final LinkedBlockingQueue<CapturedClientHello> hellos = new LinkedBlockingQueue<>();
    private final java.util.concurrent.atomic.AtomicLong bytesReceived = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
    private final String greeting;

    private CapturingOrigin(String greeting) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.greeting = greeting;
        Thread acceptor = new Thread(this::acceptLoop, "capturing-origin");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Keeps each connection's first TLS record, then closes it. */
    static CapturingOrigin clientHellos() throws IOException {
        return new CapturingOrigin(null);
    }

    /** Sends {@code greeting} as soon as a connection opens, then echoes what comes. */
    static CapturingOrigin speakingFirst(String greeting) throws IOException {
        return new CapturingOrigin(greeting);
    }

    int port() {
        return server.getLocalPort();
    }

    /** The next ClientHello received, waiting for it (the Poll deadline). */
    CapturedClientHello nextHello() throws Exception {
        CapturedClientHello hello = hellos.poll(dev.tollgate.testing.Poll.DEADLINE.toSeconds(),
                java.util.concurrent.TimeUnit.SECONDS);
        if (hello == null) {
            throw new AssertionError("no ClientHello reached the origin");
        }
        return hello;
    }

    long bytesReceived() {
        return bytesReceived.get();
    }

    int connections() {
        return connections.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.incrementAndGet();
                CompletableFuture.runAsync(() -> serve(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            if (greeting != null) {
                out.write(greeting.getBytes(StandardCharsets.US_ASCII));
                out.flush();
                byte[] buffer = new byte[8192];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    bytesReceived.addAndGet(n);
                    out.write(buffer, 0, n);
                    out.flush();
                }
                return;
            }
            CountingInput counting = new CountingInput(in);
            try {
                hellos.add(CapturedClientHello.readFrom(counting));
            } finally {
                bytesReceived.addAndGet(counting.count);
            }
        } catch (IOException ignored) {
            // The client went away: what it sent is counted.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    private static final class CountingInput extends java.io.FilterInputStream {
        long count;

        CountingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
