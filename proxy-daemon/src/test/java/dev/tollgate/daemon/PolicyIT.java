package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listener's policy as a client meets it: the default destination rules, the client allowlist, the CONNECT
 * port allowlist, and the loop guard that keeps the daemon from being its own destination.
 */
class PolicyIT {

    /** A listener with the default policy, which refuses this host's addresses whatever the lists say. */
    private static final String DEFAULT_LISTENER = "{\"name\": \"main\", \"port\": 0}";

    @TempDir
    Path dir;

    @Test
    void defaultPolicyRefusesALoopbackOriginWithOneLineNamingTheRule() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, DEFAULT_LISTENER)) {
            HttpResponse<String> response = get(tollgate, origin.base() + "/hello");

            assertEquals(403, response.statusCode());
            assertOneLine(response.body());
            assertTrue(response.body().contains("is this host"), response.body());
            assertTrue(response.body().contains("allowLocalHost is off"), response.body());
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", "127.0.0.1", origin.port(), 403, Outcome.DENIED);
            assertTrue(row.reason().contains("allowLocalHost is off"), row.reason());
        }
    }

    @Test
    void defaultPolicyRefusesLocalhostByNameBecauseItResolvesToLoopback() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, DEFAULT_LISTENER)) {
            HttpResponse<String> response = get(tollgate, "http://localhost:" + origin.port() + "/hello");

            assertEquals(403, response.statusCode());
            assertOneLine(response.body());
            assertTrue(response.body().contains("is this host"), response.body());
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", "localhost", origin.port(), 403, Outcome.DENIED);
            assertTrue(row.reason().contains("allowLocalHost is off"), row.reason());
        }
    }

    @Test
    void clientOutsideAllowClientsIsRefusedAndNothingReachesTheOrigin() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, "{\"name\": \"main\", \"port\": 0,"
                     + " \"allowClients\": [\"10.0.0.0/8\"], \"denyDestinations\": [], \"allowLocalHost\": true}")) {
            HttpResponse<String> response = get(tollgate, origin.base() + "/hello");

            assertEquals(403, response.statusCode());
            assertOneLine(response.body());
            assertTrue(response.body().contains("allowClients"), response.body());
            assertEquals(0, origin.hits("/hello"));
            assertTrue(origin.receivedHeaders().isEmpty());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.FORWARD, "GET", "127.0.0.1", origin.port(), 403, Outcome.DENIED);
            assertTrue(row.reason().contains("allowClients"), row.reason());
        }
    }

    @Test
    void connectToAPortOutsideConnectPortsIsRefused() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(443));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(403, response.status());
            assertTrue(response.bodyText().contains("connectPorts"), response.bodyText());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertRow(row, Kind.TUNNEL, "CONNECT", "127.0.0.1", origin.port(), 403, Outcome.DENIED);
            assertTrue(row.reason().contains("connectPorts"), row.reason());
        }
    }

    @Test
    void getAimedAtTheProxysOwnListenerIsAnswered508OnceWithOneRow() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<String> response = get(tollgate, "http://127.0.0.1:" + tollgate.port() + "/hello");

            assertEquals(508, response.statusCode());
            assertOnlyLoopRow(tollgate, Kind.FORWARD, "GET", "127.0.0.1", tollgate.port());
        }
    }

    @Test
    void getAimedAtTheProxysOwnListenerByTheNameLocalhostIsAnswered508OnceWithOneRow() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<String> response = get(tollgate, "http://localhost:" + tollgate.port() + "/hello");

            assertEquals(508, response.statusCode());
            assertOnlyLoopRow(tollgate, Kind.FORWARD, "GET", "localhost", tollgate.port());
        }
    }

    @Test
    void getAimedAtTheAdminPortIsAnswered508OnceWithOneRow() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpResponse<String> response = get(tollgate, "http://127.0.0.1:" + tollgate.adminPort()
                    + "/api/v1/health");

            assertEquals(508, response.statusCode());
            assertOnlyLoopRow(tollgate, Kind.FORWARD, "GET", "127.0.0.1", tollgate.adminPort());
        }
    }

    @Test
    void connectAimedAtTheProxysOwnListenerIsAnswered508OnceWithOneRow() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener());
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("CONNECT 127.0.0.1:" + tollgate.port() + " HTTP/1.1\r\nHost: 127.0.0.1:"
                    + tollgate.port() + "\r\n\r\n");

            assertEquals(508, connection.readResponse().status());
            assertOnlyLoopRow(tollgate, Kind.TUNNEL, "CONNECT", "127.0.0.1", tollgate.port());
        }
    }

    @Test
    void requestCarryingThisNodesViaIsAnswered508AndNotForwarded() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.startWithConfig(dir, "{\"nodeName\": \"tg-test\","
                     + " \"listeners\": [" + RunningTollgate.loopbackListener() + "]}")) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/hello")).header("Via", "1.1 tg-test").build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(508, response.statusCode());
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = assertOnlyLoopRow(tollgate, Kind.FORWARD, "GET", "127.0.0.1", origin.port());
            assertTrue(row.reason().contains("tg-test"), row.reason());
        }
    }

    @Test
    void requestCarryingAnotherNodesViaIsForwardedWithThisNodeAppended() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.startWithConfig(dir, "{\"nodeName\": \"tg-test\","
                     + " \"listeners\": [" + RunningTollgate.loopbackListener() + "]}")) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(
                    HttpRequest.newBuilder(URI.create(origin.base() + "/hello")).header("Via", "1.1 elsewhere")
                            .build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(200, response.statusCode());
            String via = String.join(", ", origin.receivedHeaders().get(0).getValuesList(HttpHeader.VIA));
            assertEquals("1.1 elsewhere, 1.1 tg-test", via);
            assertEquals(Outcome.OK, tollgate.awaitRows(1).get(0).outcome());
        }
    }

    private static HttpResponse<String> get(RunningTollgate tollgate, String url) throws Exception {
        return ProxyClient.through(tollgate.port()).send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits for the loop's row, then checks it is the only one: the request did not bounce. */
    private static AccessRecord assertOnlyLoopRow(RunningTollgate tollgate, Kind kind, String method, String host,
                                                  int port) throws Exception {
        AccessRecord row = tollgate.awaitRows(1).get(0);
        List<AccessRecord> all = tollgate.rows();
        assertEquals(1, all.size(), () -> "one looped request, one row: " + all);
        assertRow(row, kind, method, host, port, 508, Outcome.LOOP);
        return row;
    }

    private static void assertOneLine(String body) {
        assertTrue(body.endsWith("\n") && body.indexOf('\n') == body.length() - 1,
                () -> "expected one line, got: " + body);
    }

    private static void assertRow(AccessRecord row, Kind kind, String method, String host, int port, int status,
                                  Outcome outcome) {
        assertEquals(kind, row.kind(), () -> "kind of " + row);
        assertEquals(method, row.method(), () -> "method of " + row);
        assertEquals(host, row.host(), () -> "host of " + row);
        assertEquals(port, row.port(), () -> "port of " + row);
        assertEquals(status, row.status(), () -> "status of " + row);
        assertEquals(outcome, row.outcome(), () -> "outcome of " + row);
        assertTrue(row.reason() != null && !row.reason().isBlank(), () -> "reason of " + row);
    }
}
