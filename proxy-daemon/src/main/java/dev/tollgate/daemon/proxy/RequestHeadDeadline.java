package dev.tollgate.daemon.proxy;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
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

    final class Watch {
        private final EndPoint endPoint;
        private final Scheduler scheduler;
        /** The head being waited for, or null between heads. */
        private final AtomicReference<Head> current = new AtomicReference<>();
        private volatile boolean expired;

        private Watch(EndPoint endPoint, Scheduler scheduler) {
            this.endPoint = endPoint;
            this.scheduler = scheduler;
        }

        /** Called when bytes of a request head start to arrive; starts the clock unless it runs already. */
        void headStarted() {
            Head head = new Head(System.currentTimeMillis());
            if (current.compareAndSet(null, head)) {
                head.task = scheduler.schedule(() -> expire(head), timeoutMs, TimeUnit.MILLISECONDS);
            }
        }

        /**
         * Called when the connection closes: stops the clock. Without it a connection that ends between requests
         * (whose end of stream looks like the first byte of a head) left a task holding it, its parser and
         * buffers for the whole timeout: 140 MB of closed connections in the soak (docs/reliability.md).
         */
        void connectionClosed() {
            headComplete();
        }

        /** Called when the head is complete: stops the clock. */
        void headComplete() {
            Head head = current.getAndSet(null);
            if (head != null && head.task != null) {
                head.task.cancel();
            }
        }

        /** Whether this connection was cut off by the deadline (and its one record written). */
        boolean expired() {
            return expired;
        }

        private void expire(Head head) {
            if (!current.compareAndSet(head, null) || !endPoint.isOpen()) {
                return;
            }
            // Before the close: the parser then meets the end of a half-read head and Jetty answers it 400,
            // which must not become a second record of the same request.
            expired = true;
            String reason = "request head not complete within " + timeoutMs + " ms (requestHeaderTimeoutMs)";
            byte[] body = (REQUEST_TIMEOUT + " " + reason + "\n").getBytes(StandardCharsets.UTF_8);
            String response = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain;charset=utf-8\r\n"
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
            sink.accept(new AccessRecord(null, head.startedAtMs, Math.max(0, System.currentTimeMillis()
                    - head.startedAtMs), node, listener, clientAddr, clientPort, null, Kind.FORWARD, null, null,
                    null, 0, null, REQUEST_TIMEOUT, 0, 0, null, null, Outcome.CLIENT_TIMEOUT, reason));
        }
    }

    private static final class Head {
        final long startedAtMs;
        volatile Scheduler.Task task;

        Head(long startedAtMs) {
            this.startedAtMs = startedAtMs;
        }
    }
}
