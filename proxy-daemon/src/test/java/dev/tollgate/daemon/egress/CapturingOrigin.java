package dev.tollgate.daemon.egress;

import dev.tollgate.testing.Poll;
import dev.tollgate.testing.origins.RawOrigin;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback origin that is not a TLS server: it keeps the first TLS record of each connection (the client's
 * ClientHello, as it arrived through the tunnel) and closes; or, started with a greeting, speaks first (as SMTP or
 * SSH do) and then echoes. Counts every byte it ever received.
 */
final class CapturingOrigin implements AutoCloseable {

    private final LinkedBlockingQueue<CapturedClientHello> hellos = new LinkedBlockingQueue<>();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final String greeting;
    private final RawOrigin origin;

    private CapturingOrigin(String greeting) throws IOException {
        this.greeting = greeting;
        this.origin = RawOrigin.scripted((socket, raw) -> serve(socket));
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
        return origin.port();
    }

    /** The next ClientHello received, waiting for it (the Poll deadline). */
    CapturedClientHello nextHello() throws Exception {
        CapturedClientHello hello = hellos.poll(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS);
        if (hello == null) {
            throw new AssertionError("no ClientHello reached the origin");
        }
        return hello;
    }

    long bytesReceived() {
        return bytesReceived.get();
    }

    int connections() {
        return origin.connections();
    }

    private void serve(Socket socket) throws IOException {
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
    }

    @Override
    public void close() throws Exception {
        origin.close();
    }

    private static final class CountingInput extends FilterInputStream {
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
