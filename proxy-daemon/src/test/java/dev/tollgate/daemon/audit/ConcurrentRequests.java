package dev.tollgate.daemon.audit;

import dev.tollgate.testing.RawHttpConnection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Many requests in flight at once from one selector thread: each request on its own connection to
 * 127.0.0.1, written in full, then read until the peer closes (the requests say {@code Connection: close}).
 * Thousands of open exchanges cost one thread and a few hundred bytes each.
 */
final class ConcurrentRequests implements AutoCloseable {

    private final InetSocketAddress proxy;
    private final IntFunction<String> requestFor;
    private final Selector selector;
    private final Thread loop;
    private final Queue<Integer> toOpen = new ConcurrentLinkedQueue<>();
    private final Map<Integer, byte[]> finished = new ConcurrentHashMap<>();
    private final Map<Integer, String> errors = new ConcurrentHashMap<>();
    private final AtomicInteger opened = new AtomicInteger();
    private volatile boolean closing;

    /**
     * @param proxyPort  where to connect, on 127.0.0.1
     * @param requestFor the request bytes (ISO-8859-1) for request number {@code i}
     */
    ConcurrentRequests(int proxyPort, IntFunction<String> requestFor) throws IOException {
        this.proxy = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), proxyPort);
        this.requestFor = requestFor;
        this.selector = Selector.open();
        this.loop = new Thread(this::run, "concurrent-requests");
        loop.setDaemon(true);
        loop.start();
    }

    /** Opens connections for requests {@code from} (inclusive) to {@code to} (exclusive) and sends them. */
    void send(int from, int to) {
        for (int i = from; i < to; i++) {
            toOpen.add(i);
        }
        selector.wakeup();
    }

    /** Requests whose connection has ended (closed by the peer, or failed). */
    int ended() {
        return finished.size();
    }

    /** Connections opened so far. */
    int opened() {
        return opened.get();
    }

    /** Whether every connection opened has ended. */
    boolean allEnded() {
        return toOpen.isEmpty() && finished.size() == opened.get();
    }

    /** What each ended request received, by request number. */
    Map<Integer, RawHttpConnection.Response> responses() {
        Map<Integer, RawHttpConnection.Response> parsed = new TreeMap<>();
        finished.forEach((i, bytes) -> parsed.put(i, RawHttpConnection.parse(bytes)));
        return parsed;
    }

    /** Why connections ended with an error rather than a close, by request number. */
    Map<Integer, String> errors() {
        return Map.copyOf(errors);
    }

    @Override
    public void close() throws IOException {
        closing = true;
        selector.wakeup();
        try {
            loop.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SelectionKey key : selector.keys()) {
            key.channel().close();
        }
        selector.close();
    }

    /** One exchange: the request still to write and the response read so far. */
    private static final class Exchange {
        final int id;
        final ByteBuffer out;
        final ByteArrayOutputStream in = new ByteArrayOutputStream(256);

        Exchange(int id, String request) {
            this.id = id;
            this.out = ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        while (!closing) {
            try {
                selector.select(100);
                for (Integer i = toOpen.poll(); i != null; i = toOpen.poll()) {
                    open(i);
                }
                for (var keys = selector.selectedKeys().iterator(); keys.hasNext(); ) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    handle(key, buffer);
                }
            } catch (IOException e) {
                throw new IllegalStateException("the selector failed", e);
            }
        }
    }

    private void open(int i) {
        opened.incrementAndGet();
        Exchange exchange = new Exchange(i, requestFor.apply(i));
        try {
            SocketChannel channel = SocketChannel.open();
            channel.configureBlocking(false);
            if (channel.connect(proxy)) {
                channel.register(selector, SelectionKey.OP_WRITE, exchange);
            } else {
                channel.register(selector, SelectionKey.OP_CONNECT, exchange);
            }
        } catch (IOException e) {
            end(exchange, null, e);
        }
    }

    private void handle(SelectionKey key, ByteBuffer buffer) {
        Exchange exchange = (Exchange) key.attachment();
        SocketChannel channel = (SocketChannel) key.channel();
        try {
            if (key.isConnectable()) {
                channel.finishConnect();
                key.interestOps(SelectionKey.OP_WRITE);
                return;
            }
            if (key.isWritable()) {
                channel.write(exchange.out);
                if (!exchange.out.hasRemaining()) {
                    key.interestOps(SelectionKey.OP_READ);
                }
                return;
            }
            if (key.isReadable()) {
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    end(exchange, key, null);
                    return;
                }
                exchange.in.write(buffer.array(), 0, n);
            }
        } catch (IOException e) {
            end(exchange, key, e);
        }
    }

    private void end(Exchange exchange, SelectionKey key, IOException error) {
        if (key != null) {
            key.cancel();
            try {
                key.channel().close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        if (error != null) {
            errors.put(exchange.id, error.toString());
        }
        finished.put(exchange.id, exchange.in.toByteArray());
    }
}
