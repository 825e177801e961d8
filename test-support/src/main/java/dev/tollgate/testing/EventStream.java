package dev.tollgate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A Server-Sent Events answer (text/event-stream) read as it arrives, on a thread of its own, so that a test
 * polls for events with a deadline ({@link Poll}) instead of blocking on a read that may never return. Close it
 * to hang up, as a browser tab that goes away does.
 */
public final class EventStream implements AutoCloseable {

    /** One event: its {@code id:} (null when none) and its {@code data:} lines joined by '\n'. */
    public record Event(String id, String data) {
    }

    private final HttpResponse<InputStream> response;
    private final List<Event> events = new ArrayList<>();
    private final List<String> comments = new ArrayList<>();
    private final Thread reader;
    private volatile boolean ended;

    public EventStream(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = new Thread(this::read, "event-stream-reader");
        reader.setDaemon(true);
        reader.start();
    }

    public HttpResponse<InputStream> response() {
        return response;
    }

    /** The events received so far, oldest first. */
    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** The comment lines received so far (heartbeats), without their ':'. */
    public synchronized List<String> comments() {
        return List.copyOf(comments);
    }

    /** Whether the server has ended the stream. */
    public boolean ended() {
        return ended;
    }

    /** Polls until at least {@code count} events have come, and returns them all. */
    public List<Event> awaitEvents(int count) throws Exception {
        return Poll.forMatch("at least " + count + " server-sent event(s)", this::events,
                received -> received.size() >= count);
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String id = null;
            StringBuilder data = null;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isEmpty()) {
                    if (data != null) {
                        add(new Event(id, data.toString()));
                    }
                    id = null;
                    data = null;
                } else if (line.startsWith(":")) {
                    addComment(line.substring(1).trim());
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).trim();
                } else if (line.startsWith("data:")) {
                    String value = line.substring(5).startsWith(" ") ? line.substring(6) : line.substring(5);
                    data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                }
            }
        } catch (IOException closed) {
            // the test hung up, or the server cut the stream
        } finally {
            ended = true;
        }
    }

    private synchronized void add(Event event) {
        events.add(event);
    }

    private synchronized void addComment(String comment) {
        comments.add(comment);
    }

    @Override
    public void close() throws IOException {
        response.body().close();
    }
}
