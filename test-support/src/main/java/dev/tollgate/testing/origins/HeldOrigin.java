package dev.tollgate.testing.origins;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An origin on 127.0.0.1 that holds every response until {@link #release()}: a request is in flight from the
 * moment it arrives here until it is released. It answers {@code GET /held?i=N} with 200 and body
 * {@code i=N}. It listens on several ports because the proxy's HTTP client opens at most 256 connections to
 * one destination (host and port) and queues at most 1,024 requests more, refusing the rest: spreading
 * the requests over the ports keeps every one of them on its own connection to the origin, in flight.
 * Held requests take no thread: each is a parked callback.
 */
public final class HeldOrigin implements AutoCloseable {

    private final Server server = new Server();
    private final List<ServerConnector> connectors = new ArrayList<>();
    private final Object lock = new Object();
    private List<Held> held = new ArrayList<>();
    private int arrived;
    private boolean released;

    private record Held(Response response, Callback callback, String i) {
    }

    public HeldOrigin(int ports) throws Exception {
        for (int p = 0; p < ports; p++) {
            ServerConnector connector = new ServerConnector(server);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            connector.setAcceptQueueSize(1024);
            // Held exchanges are idle on purpose; the test ends them.
            connector.setIdleTimeout(Duration.ofMinutes(5).toMillis());
            server.addConnector(connector);
            connectors.add(connector);
        }
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                String i = Request.extractQueryParameters(request).getValue("i");
                synchronized (lock) {
                    arrived++;
                    lock.notifyAll();
                    if (!released) {
                        held.add(new Held(response, callback, i));
                        return true;
                    }
                }
                answer(new Held(response, callback, i));
                return true;
            }
        });
        server.start();
    }

    /** The port of connector {@code n} (0-based), for spreading requests round-robin. */
    public int port(int n) {
        return connectors.get(n % connectors.size()).getLocalPort();
    }

    /** Requests that have reached the origin so far. */
    public int arrived() {
        synchronized (lock) {
            return arrived;
        }
    }

    /**
     * Waits until at least {@code count} requests have reached the origin.
     *
     * @return whether they had before the deadline
     */
    public boolean awaitArrived(int count, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        synchronized (lock) {
            while (arrived < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** Answers every held request, and from now on every new one at once. */
    public void release() {
        List<Held> toAnswer;
        synchronized (lock) {
            released = true;
            toAnswer = held;
            held = new ArrayList<>();
        }
        toAnswer.forEach(HeldOrigin::answer);
    }

    @Override
    public void close() throws Exception {
        release();
        server.stop();
    }

    private static void answer(Held h) {
        byte[] body = ("i=" + h.i()).getBytes(StandardCharsets.UTF_8);
        h.response().setStatus(200);
        h.response().getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
        h.response().getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        h.response().write(true, ByteBuffer.wrap(body), h.callback());
    }
}
