package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plain HTTP forwarding through a real daemon to a real origin: what the client gets, what the origin
 * receives and the one access record each request leaves.
 */
class ForwardingIT {

    private static final int ONE_MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void getIsForwardedToTheOriginAndRecorded() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(200, response.statusCode());
            assertEquals("hello", response.body());
            assertEquals(1, origin.hits("/hello"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.FORWARD, row.kind());
            assertEquals("main", row.listener());
            assertEquals("127.0.0.1", row.clientAddr());
            assertEquals("HTTP/1.1", row.protocol());
            assertEquals("GET", row.method());
            assertEquals("127.0.0.1", row.host());
            assertEquals(origin.port(), row.port());
            assertEquals("/hello", row.path());
            assertEquals(200, row.status());
            assertEquals(0, row.bytesFromClient());
            assertEquals(5, row.bytesToClient());
            assertEquals("127.0.0.1", row.upstreamAddr());
            assertEquals(Outcome.OK, row.outcome());
            assertNull(row.reason());
        }
    }

    @Test
    void oneMebibytePostToEchoComesBackByteIdenticalAndIsCountedBothWays() throws Exception {
        byte[] sent = new byte[ONE_MIB];
        new Random(20_261_127L).nextBytes(sent);
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<byte[]> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/echo"))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(sent)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());

            assertEquals(200, response.statusCode());
            assertEquals(ONE_MIB, response.body().length);
            assertEquals(sha256(sent), sha256(response.body()));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals("POST", row.method());
            assertEquals("/echo", row.path());
            assertEquals(200, row.status());
            assertEquals(ONE_MIB, row.bytesFromClient());
            assertEquals(ONE_MIB, row.bytesToClient());
            assertEquals(Outcome.OK, row.outcome());
        }
    }

    @Test
    void http10ClientIsAnsweredAndRecordedAsHttp10() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener());
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET " + origin.base() + "/hello HTTP/1.0\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status());
            assertTrue(response.complete());
            assertEquals("hello", response.bodyText());
            // An HTTP/1.0 request without keep-alive ends its connection (RFC 9112 9.3).
            connection.awaitClosedByPeer();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals("HTTP/1.0", row.protocol());
            assertEquals("GET", row.method());
            assertEquals("/hello", row.path());
            assertEquals(200, row.status());
            assertEquals(connection.localPort(), row.clientPort());
            assertEquals(Outcome.OK, row.outcome());
        }
    }

    @Test
    void twoRequestsOnOneKeptAliveConnectionAreBothAnsweredAndRecordedWithTheSameClientPort() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener());
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            String request = "GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\n\r\n";

            connection.send(request);
            RawHttpConnection.Response first = connection.readResponse();
            connection.send(request);
            RawHttpConnection.Response second = connection.readResponse();

            assertEquals(200, first.status());
            assertEquals("hello", first.bodyText());
            String firstConnection = first.header("Connection");
            assertFalse(firstConnection != null && firstConnection.toLowerCase(Locale.ROOT).contains("close"),
                    "the first response must keep the connection open, got Connection: " + firstConnection);
            assertEquals(200, second.status());
            assertEquals("hello", second.bodyText());
            List<AccessRecord> rows = tollgate.awaitRows(2);
            assertEquals(2, rows.size());
            for (AccessRecord row : rows) {
                assertEquals(connection.localPort(), row.clientPort());
                assertEquals("/hello", row.path());
                assertEquals(Outcome.OK, row.outcome());
            }
        }
    }

    @Test
    void viaIsAddedAndHeadersListedInConnectionDoNotReachTheOrigin() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.startWithConfig(dir, "{\"nodeName\": \"tg-fwd\","
                     + " \"listeners\": [" + RunningTollgate.loopbackListener() + "]}");
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET " + origin.base() + "/hello HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + origin.port() + "\r\n"
                    + "Connection: X-Foo\r\n"
                    + "X-Foo: bar\r\n"
                    + "X-End-To-End: kept\r\n"
                    + "\r\n");

            assertEquals(200, connection.readResponse().status());
            assertEquals(1, origin.receivedHeaders().size());
            HttpFields atOrigin = origin.receivedHeaders().get(0);
            assertEquals(List.of("1.1 tg-fwd"), atOrigin.getValuesList(HttpHeader.VIA));
            assertNull(atOrigin.get("X-Foo"), "a header named in Connection is hop-by-hop (RFC 9110 7.6.1)");
            String connectionAtOrigin = atOrigin.get(HttpHeader.CONNECTION);
            assertFalse(connectionAtOrigin != null && connectionAtOrigin.toLowerCase(Locale.ROOT).contains("x-foo"),
                    "the client's Connection header must not be forwarded, origin got: " + connectionAtOrigin);
            assertEquals("kept", atOrigin.get("X-End-To-End"));
            tollgate.awaitRows(1);
        }
    }

    @Test
    void viaNamesTheClientsProtocolVersion() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.startWithConfig(dir, "{\"nodeName\": \"tg-fwd\","
                     + " \"listeners\": [" + RunningTollgate.loopbackListener() + "]}")) {
            for (String version : List.of("1.0", "1.1")) {
                try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
                    connection.send("GET " + origin.base() + "/hello HTTP/" + version + "\r\n"
                            + "Host: 127.0.0.1:" + origin.port() + "\r\n"
                            + "Connection: close\r\n"
                            + "\r\n");
                    assertEquals(200, connection.readResponse().status());
                }
            }
            assertEquals(2, origin.receivedHeaders().size());
            assertEquals(List.of("1.0 tg-fwd"), origin.receivedHeaders().get(0).getValuesList(HttpHeader.VIA));
            assertEquals(List.of("1.1 tg-fwd"), origin.receivedHeaders().get(1).getValuesList(HttpHeader.VIA));
            tollgate.awaitRows(2);
        }
    }

    @Test
    void notFoundFromTheOriginIsPassedThroughWithOutcomeOk() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/missing")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(404, response.statusCode());
            assertEquals("not found", response.body());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals("/missing", row.path());
            assertEquals(404, row.status());
            assertEquals(Outcome.OK, row.outcome());
            assertNull(row.reason());
        }
    }

    @Test
    void queryStringIsLeftOutOfTheLoggedPathByDefault() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/bytes?n=3")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals("xxx", response.body());
            assertEquals("/bytes", tollgate.awaitRows(1).get(0).path());
        }
    }

    @Test
    void queryStringIsLoggedWhenTheListenerSetsLogQuery() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir,
                     "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"logQuery\": true}")) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/bytes?n=3")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals("xxx", response.body());
            assertEquals("/bytes?n=3", tollgate.awaitRows(1).get(0).path());
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
