package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Destination and client rules, CONNECT port ranges and forwardedFor as a client meets them: each rule's
 * allow and deny path, and the row's outcome and reason naming the rule. Names come from src/test/resources/
 * test-hosts (failsafe's jdk.net.hosts.file): allowed.test and its subdomains are 127.0.0.1, rebind.test is
 * 169.254.169.254.
 */
class AccessRulesIT {

    @TempDir
    Path dir;

    private static String listener(String rules) {
        return "{\"name\": \"main\", \"port\": 0, " + rules + "}";
    }

    @Test
    void allowDestinationsWithAnExactNameLetsThatNameThroughAndNothingElse() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                     "\"denyDestinations\": [], \"allowLocalHost\": true, \"allowDestinations\": [\"allowed.test\"]"))) {
            assertEquals(200, get(tollgate, "http://allowed.test:" + origin.port() + "/hello").statusCode());
            HttpResponse<String> other = get(tollgate, "http://www.allowed.test:" + origin.port() + "/hello");
            HttpResponse<String> byAddress = get(tollgate, origin.base() + "/hello");

            assertEquals(403, other.statusCode());
            assertEquals(403, byAddress.statusCode());
            assertEquals(1, origin.hits("/hello"));
            AccessRecord ok = tollgate.awaitRows(1, r -> "allowed.test".equals(r.host())).get(0);
            assertEquals(Outcome.OK, ok.outcome());
            AccessRecord denied = deniedRow(tollgate, "www.allowed.test");
            assertTrue(denied.reason().contains("matches no entry of allowDestinations"), denied.reason());
            assertTrue(deniedRow(tollgate, "127.0.0.1").reason().contains("allowDestinations"));
        }
    }

    @Test
    void aWildcardPatternMatchesSubdomainsButNotTheDomainItself() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                     "\"denyDestinations\": [], \"allowLocalHost\": true, \"allowDestinations\": [\"*.allowed.test\"]"))) {
            assertEquals(200, get(tollgate, "http://www.allowed.test:" + origin.port() + "/hello").statusCode());
            assertEquals(403, get(tollgate, "http://allowed.test:" + origin.port() + "/hello").statusCode());

            assertEquals(Outcome.DENIED, deniedRow(tollgate, "allowed.test").outcome());
        }
    }

    @Test
    void aLeadingDotPatternMatchesTheDomainAndItsSubdomains() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                     "\"denyDestinations\": [], \"allowLocalHost\": true, \"allowDestinations\": [\".allowed.test\"]"))) {
            assertEquals(200, get(tollgate, "http://www.allowed.test:" + origin.port() + "/hello").statusCode());
            assertEquals(200, get(tollgate, "http://allowed.test:" + origin.port() + "/hello").statusCode());
            assertEquals(2, origin.hits("/hello"));
        }
    }

    @Test
    void denyWinsOverAllowAndItsReasonNamesTheRule() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"allowDestinations\": [\".allowed.test\"],"
                     + " \"denyDestinations\": [\"10.0.0.0/8\", \"api.allowed.test\"]"))) {
            HttpResponse<String> response = get(tollgate, "http://api.allowed.test:" + origin.port() + "/hello");

            assertEquals(403, response.statusCode());
            assertTrue(response.body().contains("denyDestinations[1]: api.allowed.test"), response.body());
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = deniedRow(tollgate, "api.allowed.test");
            assertEquals(403, row.status());
            assertTrue(row.reason().contains("denyDestinations[1]: api.allowed.test"), row.reason());
        }
    }

    @Test
    void aNameThatResolvesToADeniedNetworkIsRefusedByTheAddressRule() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                "\"denyDestinations\": [\"10.0.0.0/8\", \"192.168.0.0/16\", \"169.254.0.0/16\"]"))) {
            HttpResponse<String> response = get(tollgate, "http://rebind.test/latest/meta-data/");

            assertEquals(403, response.statusCode());
            AccessRecord row = deniedRow(tollgate, "rebind.test");
            assertTrue(row.reason().contains("denyDestinations[2]: 169.254.0.0/16"), row.reason());
            assertTrue(row.reason().contains("169.254.169.254"), row.reason());
        }
    }

    @Test
    void localhostIsRefusedByTheLoopbackRuleAtItsIndex() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                     "\"denyDestinations\": [\"10.0.0.0/8\", \"127.0.0.0/8\"], \"allowLocalHost\": true"))) {
            assertEquals(403, get(tollgate, "http://localhost:" + origin.port() + "/hello").statusCode());

            AccessRecord row = deniedRow(tollgate, "localhost");
            assertTrue(row.reason().contains("denyDestinations[1]: 127.0.0.0/8"), row.reason());
        }
    }

    @Test
    void anAllowedNetworkLetsAnAddressThrough() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                     "\"denyDestinations\": [], \"allowLocalHost\": true, \"allowDestinations\": [\"127.0.0.0/8\"]"))) {
            assertEquals(200, get(tollgate, origin.base() + "/hello").statusCode());
            assertEquals(Outcome.OK, tollgate.awaitRows(1).get(0).outcome());
        }
    }

    @Test
    void aClientInsideAllowClientsIsServed() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(
                     "\"denyDestinations\": [], \"allowLocalHost\": true, \"allowClients\": [\"127.0.0.1/32\"]"))) {
            assertEquals(200, get(tollgate, origin.base() + "/hello").statusCode());
            assertEquals(Outcome.OK, tollgate.awaitRows(1).get(0).outcome());
        }
    }

    @Test
    void aClientOutsideAllowClientsIsRefusedOnConnectToo() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"denyDestinations\": [], \"allowLocalHost\": true,"
                     + " \"allowClients\": [\"10.0.0.0/8\"], \"connectPorts\": [" + echo.port() + "]"));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(connect("127.0.0.1", echo.port(), ""));

            assertEquals(403, connection.readResponse().status());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(Outcome.DENIED, row.outcome());
            assertTrue(row.reason().contains("allowClients"), row.reason());
        }
    }

    @Test
    void connectToAPortInsideARangeIsTunnelled() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"denyDestinations\": [], \"allowLocalHost\": true,"
                     + " \"connectPorts\": [443, \"" + (echo.port() - 1) + "-" + (echo.port() + 1) + "\"]"));
             RawTunnel tunnel = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(), "")) {
            assertEquals(200, tunnel.status(), tunnel.head());
            assertEquals("ping", tunnel.echo("ping"));
        }
    }

    @Test
    void connectToAPortOutsideEveryRangeIsRefused() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"denyDestinations\": [], \"allowLocalHost\": true,"
                     + " \"connectPorts\": [443, \"" + (echo.port() + 1) + "-" + (echo.port() + 2) + "\"]"));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(connect("127.0.0.1", echo.port(), ""));

            assertEquals(403, connection.readResponse().status());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.DENIED, row.outcome());
            assertTrue(row.reason().contains("connectPorts [443, " + (echo.port() + 1)), row.reason());
        }
    }

    @Test
    void connectToADeniedNameIsRefusedBeforeAnythingIsDialled() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener("\"denyDestinations\":"
                     + " [\"*.allowed.test\"], \"connectPorts\": [" + echo.port() + "]"));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(connect("www.allowed.test", echo.port(), ""));

            assertEquals(403, connection.readResponse().status());
            AccessRecord row = deniedRow(tollgate, "www.allowed.test");
            assertTrue(row.reason().contains("denyDestinations[0]: *.allowed.test"), row.reason());
            assertTrue(echo.connections().isEmpty());
        }
    }

    @Test
    void forwardedForOffAddsNothingAndLetsTheClientsOwnHeaderThrough() throws Exception {
        HttpFields seen = forwardedHeaders("off", "203.0.113.9");

        assertEquals("203.0.113.9", seen.get(HttpHeader.X_FORWARDED_FOR));
        assertNull(seen.get(HttpHeader.FORWARDED));
        assertTrue(seen.get(HttpHeader.VIA) != null);
    }

    @Test
    void forwardedForOnAppendsTheClientAddressToBothHeaders() throws Exception {
        HttpFields seen = forwardedHeaders("on", "203.0.113.9");

        assertEquals("203.0.113.9, 127.0.0.1", seen.get(HttpHeader.X_FORWARDED_FOR));
        assertEquals("for=127.0.0.1", seen.get(HttpHeader.FORWARDED));
        assertTrue(seen.get(HttpHeader.VIA) != null);
    }

    @Test
    void forwardedForDeleteStripsBothButKeepsVia() throws Exception {
        HttpFields seen = forwardedHeaders("delete", "203.0.113.9");

        assertNull(seen.get(HttpHeader.X_FORWARDED_FOR));
        assertNull(seen.get(HttpHeader.FORWARDED));
        assertTrue(seen.get(HttpHeader.VIA) != null);
    }

    private HttpFields forwardedHeaders(String mode, String clientSent) throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir.resolve(mode), listener(
                     "\"denyDestinations\": [], \"allowLocalHost\": true, \"forwardedFor\": \"" + mode + "\""))) {
            HttpResponse<String> response = ProxyClient.through(tollgate.port()).send(HttpRequest.newBuilder(
                    URI.create(origin.base() + "/hello")).header("X-Forwarded-For", clientSent).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            return origin.receivedHeaders().get(0);
        }
    }

    static String connect(String host, int port, String extraHeaders) {
        return "CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n" + extraHeaders
                + "\r\n";
    }

    private static AccessRecord deniedRow(RunningTollgate tollgate, String host) throws Exception {
        AccessRecord row = tollgate.awaitRows(1, r -> host.equals(r.host()) && r.outcome() == Outcome.DENIED).get(0);
        assertEquals(403, row.status());
        return row;
    }

    private static HttpResponse<String> get(RunningTollgate tollgate, String url) throws Exception {
        return ProxyClient.through(tollgate.port()).send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
