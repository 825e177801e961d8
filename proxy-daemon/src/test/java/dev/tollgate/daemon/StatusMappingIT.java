package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.RawOrigin;
import dev.tollgate.testing.origins.UnacceptingOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How each way a request can fail maps to the status the client sees and the one access record it leaves:
 * upstream refused, silent, undiallable or cut short; targets a forward proxy must refuse; and requests
 * Jetty's parser rejects before any handler runs.
 */
class StatusMappingIT {

    private static final String LOOPBACK_LISTENER = RunningTollgate.loopbackListener();
    private static final int ONE_MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void upstreamThatRefusesConnectionsIsAnswered502Unreachable() throws Exception {
        int closedPort = RawOrigin.closedPort();
        try (RunningTollgate tollgate = RunningTollgate.start(dir, LOOPBACK_LISTENER)) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + closedPort + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(502, response.statusCode());
            assertRow(tollgate.awaitRows(1).get(0), Kind.FORWARD, "GET", closedPort, 502,
                    Outcome.UPSTREAM_UNREACHABLE);
        }
    }

    @Test
    void upstreamThatAcceptsButNeverAnswersIsAnswered504Timeout() throws Exception {
        try (RawOrigin silent = RawOrigin.scripted((socket, origin) -> readForever(socket));
             RunningTollgate tollgate = RunningTollgate.start(dir,
                     "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"idleTimeoutMs\": 1000}")) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + silent.port() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(504, response.statusCode());
            assertRow(tollgate.awaitRows(1).get(0), Kind.FORWARD, "GET", silent.port(), 504,
                    Outcome.UPSTREAM_TIMEOUT);
        }
    }

    /**
     * A listening socket whose accept queue is full drops further SYNs (Linux, tcp_abort_on_overflow=0), so
     * dialling it on loopback hangs until the connect timeout, with no packet leaving the machine.
     */
    @Test
    void upstreamWhoseAcceptQueueIsFullIsAnswered504WhenDiallingTimesOut() throws Exception {
        try (UnacceptingOrigin neverAccepts = UnacceptingOrigin.filled();
             RunningTollgate tollgate = RunningTollgate.start(dir,
                     "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectTimeoutMs\": 1000}")) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + neverAccepts.port()
                            + "/hello")).build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(504, response.statusCode());
            assertRow(tollgate.awaitRows(1).get(0), Kind.FORWARD, "GET", neverAccepts.port(), 504,
                    Outcome.UPSTREAM_TIMEOUT);
        }
    }

    @Test
    void originFormRequestIsRefused400NamingAbsoluteUri() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, LOOPBACK_LISTENER);
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(400, response.status());
            assertTrue(response.bodyText().contains("absolute URI"), response.bodyText());
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", origin.port(), 400, Outcome.BAD_REQUEST);
            assertTrue(row.reason().contains("absolute URI"), row.reason());
        }
    }

    @Test
    void httpsAbsoluteFormGetIsRefused400() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, LOOPBACK_LISTENER);
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET https://127.0.0.1:" + origin.port() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:"
                    + origin.port() + "\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(400, response.status());
            assertTrue(response.bodyText().contains("CONNECT"), response.bodyText());
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", origin.port(), 400, Outcome.BAD_REQUEST);
            assertTrue(row.reason().contains("https"), row.reason());
        }
    }

    @Test
    void headerOver8KiBIsRejected431WithExactlyOneRow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            AccessRecord row = rejectedByTheParser("GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:"
                    + origin.port() + "\r\nX-Big: " + "a".repeat(9 * 1024) + "\r\n\r\n", 431, origin);
            assertRequestLine(row, "HTTP/1.1", "GET", "127.0.0.1", origin.port(), "/hello");
        }
    }

    /** The request line itself is what failed, so the row claims nothing about it. */
    @Test
    void uriOver8KiBIsRejected414WithExactlyOneRow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            AccessRecord row = rejectedByTheParser("GET " + origin.base() + "/hello?q=" + "a".repeat(9 * 1024)
                    + " HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n", 414, origin);
            assertRequestLine(row, null, null, null, 0, null);
        }
    }

    @Test
    void unknownHttpVersionIsRejected505WithExactlyOneRow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            AccessRecord row = rejectedByTheParser("GET " + origin.base() + "/hello HTTP/9.9\r\nHost: 127.0.0.1:"
                    + origin.port() + "\r\n\r\n", 505, origin);
            assertRequestLine(row, null, null, null, 0, null);
        }
    }

    @Test
    void contentLengthWithTransferEncodingIsRejected400WithExactlyOneRow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            AccessRecord row = rejectedByTheParser("POST " + origin.base() + "/echo HTTP/1.1\r\nHost: 127.0.0.1:"
                    + origin.port() + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n", 400, origin);
            assertRequestLine(row, "HTTP/1.1", "POST", "127.0.0.1", origin.port(), "/echo");
        }
    }

    /**
     * Ten bytes of a promised thousand may still sit in the proxy's buffer when the upstream closes: then the
     * client gets a 502 instead of a 200 cut short. Either is honest; a complete-looking 200 never is.
     */
    @Test
    void upstreamClosingTenBytesIntoAThousandByteBodyIsNeverPassedOnAsComplete() throws Exception {
        try (RawOrigin truncating = RawOrigin.scripted((socket, origin) -> promiseThousandSendTenAndClose(socket));
             RunningTollgate tollgate = RunningTollgate.start(dir, LOOPBACK_LISTENER);
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://127.0.0.1:" + truncating.port() + "/partial HTTP/1.1\r\nHost: 127.0.0.1:"
                    + truncating.port() + "\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertTrue(response.status() == 502 || response.status() == 200, () -> "status " + response.status());
            assertFalse(response.status() == 200 && response.complete(),
                    "a body the upstream cut short must never reach the client as a complete response");
            connection.awaitClosedByPeer();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", truncating.port(), response.status(), Outcome.UPSTREAM_RESET);
            assertReadableResetReason(row, truncating.port());
        }
    }

    @Test
    void upstreamClosingAfterTheResponseWasCommittedCutsTheClientConnection() throws Exception {
        try (RawOrigin truncating = RawOrigin.scripted((socket, origin) -> promiseMebibyteSendQuarterAndClose(socket));
             RunningTollgate tollgate = RunningTollgate.start(dir, LOOPBACK_LISTENER);
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://127.0.0.1:" + truncating.port() + "/partial HTTP/1.1\r\nHost: 127.0.0.1:"
                    + truncating.port() + "\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status());
            assertFalse(response.complete(), "the client must see the body cut short, got " + response.body().length
                    + " bytes");
            assertTrue(response.body().length < ONE_MIB);
            connection.awaitClosedByPeer();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", truncating.port(), 200, Outcome.UPSTREAM_RESET);
            assertTrue(row.bytesToClient() < ONE_MIB, () -> "bytes_to_client of " + row);
            assertReadableResetReason(row, truncating.port());
        }
    }

    /** The reason names the upstream and what it did, without a dump of Jetty's connection state. */
    private static void assertReadableResetReason(AccessRecord row, int upstreamPort) {
        assertTrue(row.reason().startsWith("upstream 127.0.0.1:" + upstreamPort + " broke off its response"),
                row.reason());
        assertFalse(row.reason().contains("@"), () -> "no object dumps in a reason: " + row.reason());
    }

    /** Sends a request Jetty's parser rejects; checks the status, the one row and that nothing was forwarded. */
    private AccessRecord rejectedByTheParser(String request, int status, WebOrigin origin) throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, LOOPBACK_LISTENER);
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(request);

            assertEquals(status, connection.readResponse().status());
            connection.awaitClosedByPeer();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(1, tollgate.rows().size(), () -> "one rejected request, one row: " + rowsOf(tollgate));
            assertEquals(Kind.FORWARD, row.kind());
            assertEquals(status, row.status());
            assertEquals(Outcome.BAD_REQUEST, row.outcome());
            assertNotNull(row.reason());
            assertEquals("127.0.0.1", row.clientAddr());
            assertEquals(connection.localPort(), row.clientPort());
            assertEquals(0, row.bytesFromClient());
            assertNull(row.upstreamAddr());
            assertTrue(origin.receivedHeaders().isEmpty(), "a rejected request must not reach the origin");
            return row;
        }
    }

    private static void assertRequestLine(AccessRecord row, String protocol, String method, String host, int port,
                                          String path) {
        assertEquals(protocol, row.protocol(), () -> "protocol of " + row);
        assertEquals(method, row.method(), () -> "method of " + row);
        assertEquals(host, row.host(), () -> "host of " + row);
        assertEquals(port, row.port(), () -> "port of " + row);
        assertEquals(path, row.path(), () -> "path of " + row);
    }

    private static String rowsOf(RunningTollgate tollgate) {
        try {
            return tollgate.rows().toString();
        } catch (Exception e) {
            return "(rows unreadable: " + e + ")";
        }
    }

    private static void assertRow(AccessRecord row, Kind kind, String method, int port, int status, Outcome outcome) {
        assertEquals(kind, row.kind(), () -> "kind of " + row);
        assertEquals(method, row.method(), () -> "method of " + row);
        assertEquals("127.0.0.1", row.host(), () -> "host of " + row);
        assertEquals(port, row.port(), () -> "port of " + row);
        assertEquals(status, row.status(), () -> "status of " + row);
        assertEquals(outcome, row.outcome(), () -> "outcome of " + row);
        assertNotNull(row.reason(), () -> "reason of " + row);
    }

    /** Reads and discards the request, and whatever follows, and never answers. */
    private static void readForever(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        while (in.read(buffer) >= 0) {
            // Swallow.
        }
    }

    /** Reads the request head, promises 1000 body bytes, sends 10 and closes. */
    private static void promiseThousandSendTenAndClose(Socket socket) throws IOException {
        if (!skipRequestHead(socket.getInputStream())) {
            return;
        }
        OutputStream out = socket.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n"
                + "0123456789").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        socket.close();
    }

    /**
     * Reads the request head, promises 1 MiB, sends a quarter of it (more than the proxy buffers before it
     * commits the response to the client) and closes.
     */
    private static void promiseMebibyteSendQuarterAndClose(Socket socket) throws IOException {
        if (!skipRequestHead(socket.getInputStream())) {
            return;
        }
        OutputStream out = socket.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + ONE_MIB
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(new byte[ONE_MIB / 4]);
        out.flush();
        socket.close();
    }

    /** Reads up to the end of a request's header section; false if the connection ended first. */
    private static boolean skipRequestHead(InputStream in) throws IOException {
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        int matched = 0;
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        }
        return true;
    }
}
