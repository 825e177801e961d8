package dev.tollgate.admin.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.store.AccessLogReader;
import dev.tollgate.store.AccessQuery;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.AccessRecordFields;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code GET /api/v1/access-log/tail}: the rows that match a filter as they are stored, as Server-Sent Events
 * (one {@code data:} line of the row's JSON, {@code id:} its id) for as long as the client listens, at most
 * {@link #MAX_DURATION_MS}; the client reconnects with {@code Last-Event-ID} and misses nothing.
 *
 * <p>It polls the store for rows above the last one sent every {@link #POLL_INTERVAL_MS} on the admin thread that
 * took the call: the simplest thing that cannot lose a row the database has, and a cost the cap bounds. Each
 * tail holds one of the admin server's 16 threads, so at most {@link #MAX_TAILS} run at once and the API keeps
 * threads of its own; the next one is a 503. A comment line every {@link #HEARTBEAT_MS} keeps proxies and the
 * browser from closing a quiet stream; a client that goes away ends its tail at the next poll (see
 * {@link ApiExchange#onClientGone}).
 */
public final class AccessLogTailResource {

    /** Tails served at once; over it a 503. Half the admin server's threads. */
    public static final int MAX_TAILS = 8;
    public static final long POLL_INTERVAL_MS = 500;
    public static final long HEARTBEAT_MS = 15_000;
    /** A tail ends after this; the client reconnects where it left off (with Last-Event-ID). */
    public static final long MAX_DURATION_MS = 10 * 60_000;
    /** Rows read per poll: a burst larger than this is sent over several polls, never held whole. */
    private static final int ROWS_PER_POLL = 500;
    private static final Set<String> PARAMETERS = Stream.concat(AccessLogResource.FILTER.stream(), Stream.of("after"))
            .collect(Collectors.toUnmodifiableSet());

    private final AccessLogReader reader;
    private final ObjectMapper json;
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    public AccessLogTailResource(AccessLogReader reader, ObjectMapper json) {
        this.reader = reader;
        this.json = json;
    }

    /** Ends every running tail at its next poll; called as the admin server stops. */
    public void close() {
        closed = true;
    }

    public void tail(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(PARAMETERS);
        AccessQuery filter = AccessLogResource.filter(exchange).withLimit(ROWS_PER_POLL);
        long after = start(exchange);
        if (open.incrementAndGet() > MAX_TAILS) {
            open.decrementAndGet();
            throw new ApiException(503, "already " + MAX_TAILS + " live tails open on this admin server; close one"
                    + " or try again later", Map.of("Retry-After", "5"));
        }
        try {
            exchange.responseHeader("Cache-Control", "no-cache");
            AtomicBoolean gone = new AtomicBoolean();
            exchange.onClientGone(() -> gone.set(true));
            try (Writer out = new OutputStreamWriter(exchange.stream(200, "text/event-stream; charset=utf-8"),
                    StandardCharsets.UTF_8)) {
                follow(filter, after, out, gone);
            } catch (IOException clientGone) {
                // The client closed the stream: the normal end of a tail.
            }
        } finally {
            open.decrementAndGet();
        }
    }

    /**
     * Sends the rows above {@code after} that match, as they come, until the time is up, the client has gone, the
     * server stops or a write fails.
     */
    private void follow(AccessQuery filter, long after, Writer out, AtomicBoolean gone) throws Exception {
        long startedNs = System.nanoTime();
        long quietSinceNs = startedNs;
        // Tells an EventSource how long to wait before it reconnects once the server has ended a stream.
        out.write("retry: 1000\n\n");
        out.flush();
        long last = after;
        while (!closed && !gone.get() && System.nanoTime() - startedNs < MAX_DURATION_MS * 1_000_000) {
            List<AccessRecord> rows = reader.page(filter.withAfter(last));
            for (AccessRecord row : rows) {
                out.write("id: " + row.id() + "\ndata: " + json.writeValueAsString(AccessRecordFields.asMap(row))
                        + "\n\n");
                last = row.id();
            }
            long now = System.nanoTime();
            if (!rows.isEmpty()) {
                out.flush();
                quietSinceNs = now;
            } else if (now - quietSinceNs >= HEARTBEAT_MS * 1_000_000) {
                out.write(": heartbeat\n\n");
                out.flush();
                quietSinceNs = now;
            }
            if (rows.size() < ROWS_PER_POLL) {
                Thread.sleep(POLL_INTERVAL_MS);
            }
        }
    }

    /**
     * Where the tail starts: after {@code after}, else after Last-Event-ID (a browser's reconnect), else after the
     * newest row (new rows only).
     */
    private long start(ApiExchange exchange) throws Exception {
        String after = exchange.query("after");
        String lastEventId = exchange.header("Last-Event-ID");
        try {
            if (after != null) {
                return AccessLogResource.id("after", after);
            }
            if (lastEventId != null) {
                return AccessLogResource.id("Last-Event-ID", lastEventId.trim());
            }
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
        return reader.lastId();
    }
}
