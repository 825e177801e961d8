package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listener's limits as a client meets them: maxConnections (the next connection waits, unanswered, until one
 * closes), the request-head deadline against a client trickling one header line a second (slowloris), and a
 * request body that stops arriving.
 */
class ListenerLimitsIT {

    @TempDir
    Path dir;

    private static String listener(String limits) {
        return "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, " + limits + "}";
    }

    private static String get(WebOrigin origin) {
        return "GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n";
    }

    @Test
    void atMaxConnectionsTheNextConnectionWaitsUnansweredUntilAnOpenOneCloses() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"maxConnections\": 1"));
             RawHttpConnection first = RawHttpConnection.open(tollgate.port());
             Socket second = new Socket()) {
            first.send(get(origin));
            assertEquals(200, first.readResponse().status());

            second.connect(new InetSocketAddress(RawHttpConnection.loopback(), tollgate.port()), 10_000);
            second.setSoTimeout(30_000);
            second.getOutputStream().write(get(origin).getBytes(StandardCharsets.ISO_8859_1));
            // The first connection is still served while the second waits in the accept queue.
            first.send(get(origin));
            assertEquals(200, first.readResponse().status());
            assertEquals(0, second.getInputStream().available(), "the second connection was answered");
            assertEquals(2, origin.hits("/hello"));

            first.close();
            String statusLine = readLine(second.getInputStream());
            assertTrue(statusLine.startsWith("HTTP/1.1 200"), statusLine);
            tollgate.awaitRows(3, r -> r.outcome() == Outcome.OK);
        }
    }

    @Test
    void aClientTricklingOneHeaderLineASecondIsCutOffAtTheHeaderDeadline() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"requestHeaderTimeoutMs\": 2000"));
             Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(RawHttpConnection.loopback(), tollgate.port()), 10_000);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(("GET " + origin.base() + "/hello HTTP/1.1\r\n").getBytes(StandardCharsets.ISO_8859_1));
            int linesSent = 0;
            boolean cutOff = false;
            // Slowloris: one more header line every second, never the blank line that ends the head. The idle
            // timeout (60 s) never fires; only the head deadline can end this. 30 lines are far past 2 s.
            while (linesSent < 30) {
                if (in.available() > 0) {
                    cutOff = true;
                    break;
                }
                try {
                    out.write(("X-Trickle-" + linesSent + ": 1\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                } catch (IOException closed) {
                    cutOff = true;
                    break;
                }
                linesSent++;
                Thread.sleep(1_000); // the client's pace, not a wait for a result
            }
            assertTrue(cutOff, "the connection was still open after " + linesSent + " header lines");

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.CLIENT_TIMEOUT, row.outcome(), row.toString());
            assertEquals(408, row.status());
            assertTrue(row.reason().contains("requestHeaderTimeoutMs"), row.reason());
            // Not also a 400 for the half-read head the parser meets when the deadline closes the connection.
            assertEquals(1, tollgate.rows().size(), () -> "rows: " + rowsText(tollgate));
            assertEquals("main", row.listener());
            assertEquals(socket.getLocalPort(), row.clientPort());
            assertEquals(0, origin.hits("/hello"));
        }
    }

    @Test
    void theHeaderDeadlineAnswers408() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"requestHeaderTimeoutMs\": 500"));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://127.0.0.1:1/hello HTTP/1.1\r\nHost: 127.0.0.1:1\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(408, response.status());
            assertTrue(response.bodyText().contains("requestHeaderTimeoutMs"), response.bodyText());
            assertEquals("close", response.header("Connection"));
        }
    }

    /** One timer serves a connection's heads in turn: a head that starts while it is pending gets its own deadline. */
    @Test
    void aHeadThatFollowsAnAnsweredRequestOnTheSameConnectionHasItsOwnDeadline() throws Exception {
        assertSecondHeadCutOff(1_000, 0);
    }

    /** The timer lapses while a connection is between requests; the next head sets it again. */
    @Test
    void aHeadAfterAQuietSpellOnAKeptAliveConnectionHasADeadlineToo() throws Exception {
        assertSecondHeadCutOff(500, 1_500);
    }

    /**
     * A kept-alive connection that sends nothing after its answer (a browser's, a connection pool's) is not a
     * head that is late: it waits for its idle timeout, and its next request, well past the head deadline, is
     * answered; no 408, no CLIENT_TIMEOUT row.
     */
    @Test
    void aKeptAliveConnectionQuietPastTheHeadDeadlineIsNotAnswered408() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"requestHeaderTimeoutMs\": 300"));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(headWithoutEnd(origin) + "\r\n");
            assertEquals(200, connection.readResponse().status());
            Thread.sleep(1_500); // the client's pace between requests, five head deadlines, not a wait for a result
            connection.send(headWithoutEnd(origin) + "\r\n");

            assertEquals(200, connection.readResponse().status(), "the second request on the quiet connection");
            List<AccessRecord> rows = tollgate.awaitRows(2);
            assertEquals(List.of(Outcome.OK, Outcome.OK), rows.stream().map(AccessRecord::outcome).toList(),
                    () -> "rows: " + rowsText(tollgate));
            assertEquals(2, origin.hits("/hello"));
        }
    }

    /**
     * On one kept-alive connection: a request answered, {@code quietMs} of nothing, then a head that never ends,
     * which must be answered 408 at the head deadline ({@code requestHeaderTimeoutMs}).
     */
    private void assertSecondHeadCutOff(long headTimeoutMs, long quietMs) throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"requestHeaderTimeoutMs\": "
                     + headTimeoutMs));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(headWithoutEnd(origin) + "\r\n");
            assertEquals(200, connection.readResponse().status());
            Thread.sleep(quietMs); // the client's pace between requests, not a wait for a result
            connection.send(headWithoutEnd(origin));

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(408, response.status());
            assertTrue(response.bodyText().contains("requestHeaderTimeoutMs"), response.bodyText());
            List<AccessRecord> rows = tollgate.awaitRows(2);
            assertEquals(List.of(Outcome.OK, Outcome.CLIENT_TIMEOUT), rows.stream().map(AccessRecord::outcome)
                    .sorted().toList(), () -> "rows: " + rowsText(tollgate));
            assertEquals(1, origin.hits("/hello"));
        }
    }

    /** A request head for the origin's /hello, all but the empty line that ends it. */
    private static String headWithoutEnd(WebOrigin origin) {
        return "GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n";
    }

    @Test
    void aRequestBodyThatStopsArrivingEndsWith408AndARow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"requestBodyStallTimeoutMs\": 1000"));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("POST " + origin.base() + "/echo HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\nContent-Length: 100\r\n\r\n0123456789");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(408, response.status());
            assertTrue(response.bodyText().contains("requestBodyStallTimeoutMs"), response.bodyText());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.CLIENT_TIMEOUT, row.outcome());
            assertEquals(408, row.status());
            assertEquals("POST", row.method());
            assertTrue(row.reason().contains("requestBodyStallTimeoutMs"), row.reason());
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.append((char) b);
        }
        return line.toString().trim();
    }

    private static String rowsText(RunningTollgate tollgate) {
        try {
            return tollgate.rows().toString();
        } catch (java.sql.SQLException e) {
            return e.toString();
        }
    }
}
