package dev.tollgate.daemon.exchange;

import dev.tollgate.store.AccessRecord;
import org.eclipse.jetty.http.DateGenerator;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code requestHeaderTimeoutMs}: the whole request head (request line and header fields) must arrive within
 * it, counted from its first byte, so that a client trickling header lines (slowloris) cannot hold a
 * connection for ever; the idle timeout alone never fires while a byte a second keeps arriving. When time is
 * up the client is answered 408 and the connection closed, and one access record says CLIENT_TIMEOUT.
 */
public final class RequestHeadDeadline {

    private static final int REQUEST_TIMEOUT = 408;

    private final long timeoutMs;
    private final String node;
    private final String listener;
    private final Consumer<AccessRecord> sink;

    public RequestHeadDeadline(long timeoutMs, String node, String listener, Consumer<AccessRecord> sink) {
        this.timeoutMs = timeoutMs;
        this.node = node;
        this.listener = listener;
        this.sink = sink;
    }

    /** The deadline of one connection's heads, one head at a time. */
    Watch watch(EndPoint endPoint, Scheduler scheduler) {
        return new Watch(endPoint, scheduler);
    }

    /**
     * The deadline of one connection's heads, one head at a time. A connection has at most one timer: set when a
     * head starts and none is pending, it looks at the head in progress when it fires and sets itself again for
     * that head's own deadline, or lapses when there is none. A busy keep-alive connection thus costs one timer
     * per timeout, not a timer set and cancelled per request (the scheduler's lock twice and at times a wake-up
     * of its thread: 8 % of the CPU per forwarded request, docs/performance.md).
     */
    final class Watch {
        private final EndPoint endPoint;
        private final Scheduler scheduler;
        /** The head being waited for, or null between heads. */
        private final AtomicReference<Head> current = new AtomicReference<>();
        /** Whether a timer is pending (or about to be): only the thread that sets it true schedules one. */
        private final AtomicBoolean armed = new AtomicBoolean();
        private volatile Scheduler.Task timer;
        private volatile boolean closed;
        private volatile boolean expired;

        private Watch(EndPoint endPoint, Scheduler scheduler) {
            this.endPoint = endPoint;
            this.scheduler = scheduler;
        }

        /**
         * Called when bytes of a request head have started to arrive; starts the clock unless it runs already or the
         * connection is closed.
         */
        void headStarted() {
            if (closed) {
                return;
            }
            if (current.compareAndSet(null, new Head(System.currentTimeMillis()))
                    && armed.compareAndSet(false, true)) {
                timer = scheduler.schedule(this::check, timeoutMs, TimeUnit.MILLISECONDS);
            }
        }

        /**
         * Called when the connection closes: stops the clock and drops the timer. Without it a connection that
         * ends between requests (whose end of stream looks like the first byte of a head) left a timer holding
         * it, its parser and buffers for the whole timeout: 140 MB of closed connections in the soak
         * (docs/reliability.md).
         */
        void connectionClosed() {
            closed = true;
            current.set(null);
            Scheduler.Task pending = timer;
            if (pending != null) {
                pending.cancel();
            }
        }

        /** Called when the head is complete: stops the clock. */
        void headComplete() {
            current.set(null);
        }

        /** The timer: expires a head past its deadline, or sets itself for the head in progress, or lapses. */
        private void check() {
            while (true) {
                Head head = current.get();
                if (head == null) {
                    armed.set(false);
                    // A head that started after the read above found the timer still armed and set none.
                    if (current.get() == null || !armed.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                long leftMs = head.startedAtMs + timeoutMs - System.currentTimeMillis();
                if (leftMs > 0) {
                    if (!closed) {
                        timer = scheduler.schedule(this::check, leftMs, TimeUnit.MILLISECONDS);
                    }
                    return;
                }
                if (expire(head)) {
                    return;
                }
                // The head was completed just now: look at the connection again.
            }
        }

        /** Whether this connection was cut off by the deadline (and its one record written). */
        boolean expired() {
            return expired;
        }

        /** Answers 408 and closes, unless {@code head} is no longer the one waited for (then false). */
        private boolean expire(Head head) {
            if (!current.compareAndSet(head, null)) {
                return false;
            }
            if (!endPoint.isOpen()) {
                return true;
            }
            // Before the close: the parser then meets the end of a half-read head and Jetty answers it 400,
            // which must not become a second record of the same request.
            expired = true;
            String reason = "request head not complete within " + timeoutMs + " ms (requestHeaderTimeoutMs)";
            byte[] body = (REQUEST_TIMEOUT + " " + reason + "\n").getBytes(StandardCharsets.UTF_8);
            // Date: RFC 9110 6.6.1 asks it of every 4xx from a server with a clock; Jetty adds it to the
            // responses it generates, and this one is written past Jetty's generator.
            String response = "HTTP/1.1 408 Request Timeout\r\nDate: " + DateGenerator.formatDate(Instant.now())
                    + "\r\nContent-Type: text/plain;charset=utf-8\r\n"
                    + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n";
            ByteBuffer bytes = ByteBuffer.allocate(response.length() + body.length);
            bytes.put(response.getBytes(StandardCharsets.ISO_8859_1)).put(body).flip();
            // Read before the close, after which the end point no longer knows its peer.
            SocketAddress remote = endPoint.getRemoteSocketAddress();
            String clientAddr = null;
            int clientPort = 0;
            if (remote instanceof InetSocketAddress inet) {
                clientAddr = inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
                clientPort = inet.getPort();
            }
            try {
                endPoint.write(Callback.from(endPoint::close, failure -> endPoint.close()), bytes);
            } catch (RuntimeException e) {
                // A response still being written (pipelining): just close.
                endPoint.close();
            }
            sink.accept(AccessRecord.headTimeout(node, listener, reason)
                    .timing(head.startedAtMs, System.currentTimeMillis())
                    .client(clientAddr, clientPort)
                    .build());
            return true;
        }
    }

    private static final class Head {
        final long startedAtMs;

        Head(long startedAtMs) {
            this.startedAtMs = startedAtMs;
        }
    }
}
