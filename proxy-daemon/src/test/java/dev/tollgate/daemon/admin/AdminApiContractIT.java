package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static dev.tollgate.daemon.admin.JsonShape.arrayOf;
import static dev.tollgate.daemon.admin.JsonShape.object;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One contract test per admin endpoint, against a real daemon over real sockets: the exact set of fields of
 * each answer and each field's JSON type, recursively (no field missing, none extra), and the values a test can
 * know from what it did: states, origins, the port actually bound, counters after a known set of requests.
 */
class AdminApiContractIT extends AdminApiTestBase {

    /** The access-policy keys of a definition that sets none of them (docs/policy.md), as JSON members. */
    private static final String DEFAULT_POLICY_KEYS = " \"allowDestinations\": [], \"auth\": {\"type\": \"none\","
            + " \"usersFile\": null}, \"forwardedFor\": \"off\", \"upstreamProxy\": null, \"maxConnections\": 4096,"
            + " \"requestHeaderTimeoutMs\": 30000, \"requestBodyStallTimeoutMs\": 30000,";
    /** Interception off, then the egress keys of issue #22 at their defaults (they follow it in a definition). */
    private static final String NO_LIMIT = "{\"requestsPerMinute\": 0, \"burst\": 0, \"maxTunnels\": 0,"
            + " \"bytesPerSecond\": 0}";
    private static final String INTERCEPT_OFF = " \"intercept\": {\"enabled\": false, \"bypass\": [],"
            + " \"trustBundle\": null}, \"tls\": {\"clientHelloTimeoutMs\": 5000, \"requireSniMatch\": false,"
            + " \"allowMissingSni\": false, \"domainRulesOnSni\": false}, \"denyIpLiterals\": false,"
            + " \"allowMethods\": [], \"mode\": \"enforce\", \"limits\": {\"perClient\": " + NO_LIMIT
            + ", \"perUser\": " + NO_LIMIT + ", \"perHost\": " + NO_LIMIT + ", \"maxTunnelLifetimeMs\": 0,"
            + " \"maxTrackedKeys\": 100000}";


    private static final JsonShape LISTENER_LIST = object().field("listeners", arrayOf(ApiContract.LISTENER_RUNNING));

    @Test
    void healthAnswersWithoutATokenAndReportsTheStoreUp() throws Exception {
        JsonNode health = assertOk(200, anonymous.get("/api/v1/health"));

        ApiContract.HEALTH_UP.assertMatches(health);
        assertEquals(1, health.get("sinks").size(), "the base's file sink: " + health);
        assertEquals("UP", health.get("status").textValue());
        assertEquals("UP", health.get("store").textValue());
    }

    @Test
    void listenersListsEachListenerWithItsDefinitionStateAndCounters() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        assertEquals(404, getThroughProxy("/missing").status());

        JsonNode list = Poll.forMatch("two requests counted on main", () -> assertOk(200,
                auditor.get("/api/v1/listeners")),
                body -> body.get("listeners").get(0).get("counters").get("requests").longValue() == 2);

        LISTENER_LIST.assertMatches(list);
        assertEquals(1, list.get("listeners").size(), list::toString);
        JsonNode main = list.get("listeners").get(0);
        assertEquals("main", main.get("name").textValue());
        assertEquals("RUNNING", main.get("state").textValue());
        assertEquals("CONFIG", main.get("origin").textValue());
        assertEquals(tollgate.port(), main.get("boundPort").intValue());
        assertEquals(json("{\"name\": \"main\", \"host\": \"127.0.0.1\", \"port\": 0, \"connectPorts\": ["
                + echo.port() + "], \"allowClients\": " + jsonList(ListenerConfig.DEFAULT_ALLOW_CLIENTS) + ","
                + " \"denyDestinations\": [], \"allowLocalHost\": true, \"connectTimeoutMs\": 10000,"
                + " \"idleTimeoutMs\": 60000,"
                + DEFAULT_POLICY_KEYS + " \"logQuery\": false," + INTERCEPT_OFF + "}"), main.get("definition"));
        JsonNode counters = main.get("counters");
        assertEquals(2, counters.get("requests").longValue());
        assertEquals(json("{\"1xx\": 0, \"2xx\": 1, \"3xx\": 0, \"4xx\": 1, \"5xx\": 0}"),
                counters.get("requestsByStatusClass"));
        assertEquals(0, counters.get("bytesFromClients").longValue());
        assertEquals("hello".length() + "not found".length(), counters.get("bytesToClients").longValue());
        assertEquals(0, counters.get("activeTunnels").longValue());
        assertEquals(0, counters.get("tunnelsOpened").longValue());
        assertEquals(json("{}"), counters.get("refusalsByOutcome"));
        assertEquals(0, counters.get("upstreamFailures").longValue());
    }

    @Test
    void listenersShowsAStoppedListenerWithoutPortOrStartTime() throws Exception {
        assertOk(201, admin.post("/api/v1/listeners", "{\"name\": \"spare\", \"port\": 0}"));
        assertOk(200, admin.post("/api/v1/listeners/spare/stop?drainMs=0"));

        JsonNode list = assertOk(200, auditor.get("/api/v1/listeners"));

        assertEquals(Set.of("listeners"), names(list));
        assertEquals(2, list.get("listeners").size(), list::toString);
        // In creation order: the config listener first, then the one made through the API.
        ApiContract.LISTENER_RUNNING.assertMatches(list.get("listeners").get(0));
        ApiContract.LISTENER_STOPPED.assertMatches(list.get("listeners").get(1));
        JsonNode spare = list.get("listeners").get(1);
        assertEquals("spare", spare.get("name").textValue());
        assertEquals("STOPPED", spare.get("state").textValue());
        assertEquals("API", spare.get("origin").textValue());
    }

    @Test
    void createTakesThePolicyKeysAndShowsThemBackAsGiven() throws Exception {
        AdminClient.Reply reply = admin.post("/api/v1/listeners", "{\"name\": \"api-policy\","
                + " \"port\": 0, \"connectPorts\": [443, \"8443-8445\"], \"allowDestinations\": [\".example.com\"],"
                + " \"denyDestinations\": [\"169.254.0.0/16\", \"metadata.internal\"], \"forwardedFor\": \"delete\","
                + " \"maxConnections\": 10, \"requestHeaderTimeoutMs\": 5000, \"requestBodyStallTimeoutMs\": 7000}");

        JsonNode definition = assertOk(201, reply).get("definition");
        assertEquals(json("[443, \"8443-8445\"]"), definition.get("connectPorts"));
        assertEquals(json("[\".example.com\"]"), definition.get("allowDestinations"));
        assertEquals(json("[\"169.254.0.0/16\", \"metadata.internal\"]"), definition.get("denyDestinations"));
        assertEquals("delete", definition.get("forwardedFor").textValue());
        assertEquals(10, definition.get("maxConnections").intValue());
        assertEquals(5000, definition.get("requestHeaderTimeoutMs").intValue());
        assertEquals(7000, definition.get("requestBodyStallTimeoutMs").intValue());
    }

    @Test
    void createAnswers201WithTheRunningListenerEveryDefaultFilledIn() throws Exception {
        AdminClient.Reply reply = admin.post("/api/v1/listeners",
                "{\"name\": \"api-one\", \"port\": 0, \"connectPorts\": [443, 8443], \"logQuery\": true}");

        JsonNode created = assertOk(201, reply);
        ApiContract.LISTENER_RUNNING.assertMatches(created);
        assertEquals("api-one", created.get("name").textValue());
        assertEquals("RUNNING", created.get("state").textValue());
        assertEquals("API", created.get("origin").textValue());
        int bound = tollgate.daemon().listenerPort("api-one");
        assertTrue(bound > 0, "bound port " + bound);
        assertEquals(bound, created.get("boundPort").intValue());
        assertEquals(json("{\"name\": \"api-one\", \"host\": \"127.0.0.1\", \"port\": 0, \"connectPorts\": [443,"
                + " 8443], \"allowClients\": " + jsonList(ListenerConfig.DEFAULT_ALLOW_CLIENTS) + ","
                + " \"denyDestinations\": " + jsonList(ListenerConfig.DEFAULT_DENY_DESTINATIONS) + ","
                + " \"allowLocalHost\": false, \"connectTimeoutMs\": 10000, \"idleTimeoutMs\": 60000," + DEFAULT_POLICY_KEYS
                + " \"logQuery\": true," + INTERCEPT_OFF + "}"), created.get("definition"));
        assertEquals(0, created.get("counters").get("requests").longValue());
        // The port it reports is the one it listens on: a request sent there is answered by the new listener.
        assertEquals(403, RawHttpConnection.exchange(bound, RawHttpConnection.head("GET", origin.base() + "/hello",
                "127.0.0.1:" + origin.port())).status());
    }

    @Test
    void getOneListenerShowsItsCountersAndRefusalsByOutcome() throws Exception {
        assertOk(201, admin.post("/api/v1/listeners", "{\"name\": \"guarded\", \"port\": 0}"));
        int port = tollgate.daemon().listenerPort("guarded");
        // The default policy refuses loopback destinations: one DENIED row on "guarded".
        assertEquals(403, RawHttpConnection.exchange(port, RawHttpConnection.head("GET", origin.base() + "/hello",
                "127.0.0.1:" + origin.port())).status());

        JsonNode guarded = Poll.forMatch("one request counted on guarded", () -> assertOk(200,
                auditor.get("/api/v1/listeners/guarded")),
                body -> body.get("counters").get("requests").longValue() == 1);

        ApiContract.LISTENER_RUNNING.assertMatches(guarded);
        assertEquals("guarded", guarded.get("name").textValue());
        assertEquals("API", guarded.get("origin").textValue());
        assertEquals(port, guarded.get("boundPort").intValue());
        JsonNode counters = guarded.get("counters");
        assertEquals(json("{\"1xx\": 0, \"2xx\": 0, \"3xx\": 0, \"4xx\": 1, \"5xx\": 0}"),
                counters.get("requestsByStatusClass"));
        assertEquals(json("{\"DENIED\": 1}"), counters.get("refusalsByOutcome"));
        assertEquals(0, counters.get("upstreamFailures").longValue());

        JsonNode main = assertOk(200, auditor.get("/api/v1/listeners/main"));
        ApiContract.LISTENER_RUNNING.assertMatches(main);
        assertEquals("CONFIG", main.get("origin").textValue());
        assertEquals(tollgate.port(), main.get("boundPort").intValue());
    }

    @Test
    void stopAnswersWithTheStoppedListenerAndItsPortNoLongerAccepts() throws Exception {
        int port = tollgate.port();

        JsonNode stopped = assertOk(200, admin.post("/api/v1/listeners/main/stop?drainMs=0"));

        ApiContract.LISTENER_STOPPED.assertMatches(stopped);
        assertEquals("main", stopped.get("name").textValue());
        assertEquals("STOPPED", stopped.get("state").textValue());
        assertEquals("CONFIG", stopped.get("origin").textValue());
        assertEquals(0, stopped.get("definition").get("port").intValue());
        assertEquals(-1, tollgate.daemon().listenerPort("main"));
        assertTrue(RawHttpConnection.connectionRefused(port), "a connection to the stopped listener's port");
    }

    @Test
    void startAnswersWithTheRunningListenerOnItsNewlyBoundPort() throws Exception {
        assertOk(200, admin.post("/api/v1/listeners/main/stop?drainMs=0"));

        JsonNode started = assertOk(200, admin.post("/api/v1/listeners/main/start"));

        ApiContract.LISTENER_RUNNING.assertMatches(started);
        assertEquals("main", started.get("name").textValue());
        assertEquals("RUNNING", started.get("state").textValue());
        assertEquals("CONFIG", started.get("origin").textValue());
        assertEquals(tollgate.port(), started.get("boundPort").intValue());
        assertEquals(200, getThroughProxy("/hello").status());
    }

    @Test
    void deleteAnswers204WithNoBodyAndTheListenerIsGone() throws Exception {
        assertOk(201, admin.post("/api/v1/listeners", "{\"name\": \"doomed\", \"port\": 0}"));

        AdminClient.Reply deleted = admin.delete("/api/v1/listeners/doomed?drainMs=0");

        assertEquals(204, deleted.status(), deleted::toString);
        assertArrayEquals(new byte[0], deleted.body());
        assertError(404, auditor.get("/api/v1/listeners/doomed"));
        JsonNode list = assertOk(200, auditor.get("/api/v1/listeners"));
        assertEquals(1, list.get("listeners").size(), list::toString);
        assertEquals(-1, tollgate.daemon().listenerPort("doomed"));
    }

    @Test
    void statsHasTotalsPerListenerCountersAndTheAccessLogWriter() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        assertEquals(404, getThroughProxy("/missing").status());
        tollgate.awaitRows(2);

        JsonNode stats = Poll.forMatch("two requests counted and written", () -> assertOk(200,
                auditor.get("/api/v1/stats")),
                body -> body.get("totals").get("requests").longValue() == 2
                        && body.get("accessLog").get("written").longValue() == 2);

        ApiContract.STATS.assertMatches(stats);
        assertEquals(NODE, stats.get("node").textValue());
        assertTrue(stats.get("uptimeMs").longValue() >= 0, stats::toString);
        assertEquals(Set.of("main"), names(stats.get("listeners")));
        for (JsonNode counters : List.of(stats.get("totals"), stats.get("listeners").get("main"))) {
            assertEquals(2, counters.get("requests").longValue());
            assertEquals(json("{\"1xx\": 0, \"2xx\": 1, \"3xx\": 0, \"4xx\": 1, \"5xx\": 0}"),
                    counters.get("requestsByStatusClass"));
            assertEquals(14, counters.get("bytesToClients").longValue());
            assertEquals(0, counters.get("bytesFromClients").longValue());
            assertEquals(0, counters.get("tunnelsOpened").longValue());
        }
        assertEquals(json("{\"queueDepth\": 0, \"written\": 2, \"failed\": 0, \"dropped\": 0, \"unlogged\": 0}"),
                stats.get("accessLog"));
    }

    @Test
    void tunnelsShowsAnOpenTunnelWithItsEndsAndBytesSoFar() throws Exception {
        byte[] message = "ping through the tunnel".getBytes(StandardCharsets.US_ASCII);
        try (RawTunnel client = RawTunnel.established(tollgate.port(), echo.port())) {
            assertArrayEquals(message, client.echo("ping through the tunnel").getBytes(StandardCharsets.US_ASCII));

            JsonNode tunnels = Poll.forMatch("the tunnel's bytes counted", () -> assertOk(200,
                    auditor.get("/api/v1/tunnels")),
                    body -> body.get("tunnels").size() == 1
                            && body.get("tunnels").get(0).get("bytesToClient").longValue() == message.length);

            object().field("tunnels", arrayOf(ApiContract.TUNNEL)).assertMatches(tunnels);
            JsonNode tunnel = tunnels.get("tunnels").get(0);
            assertEquals("main", tunnel.get("listener").textValue());
            assertEquals("127.0.0.1", tunnel.get("clientAddr").textValue());
            assertEquals(client.localPort(), tunnel.get("clientPort").intValue());
            assertEquals("127.0.0.1", tunnel.get("host").textValue());
            assertEquals(echo.port(), tunnel.get("port").intValue());
            assertEquals("127.0.0.1", tunnel.get("upstreamAddr").textValue());
            assertEquals(message.length, tunnel.get("bytesFromClient").longValue());
            assertEquals(message.length, tunnel.get("bytesToClient").longValue());

            JsonNode main = assertOk(200, auditor.get("/api/v1/stats")).get("listeners").get("main");
            assertEquals(1, main.get("activeTunnels").longValue());
        }

        JsonNode afterClose = Poll.forMatch("no tunnel open", () -> assertOk(200, auditor.get("/api/v1/tunnels")),
                body -> body.get("tunnels").isEmpty());
        assertEquals(json("{\"tunnels\": []}"), afterClose);
        JsonNode totals = Poll.forMatch("the tunnel counted", () -> assertOk(200, auditor.get("/api/v1/stats")),
                body -> body.get("totals").get("requests").longValue() == 1).get("totals");
        assertEquals(1, totals.get("tunnelsOpened").longValue());
        assertEquals(0, totals.get("activeTunnels").longValue());
        assertEquals(message.length, totals.get("bytesFromClients").longValue());
        assertEquals(message.length, totals.get("bytesToClients").longValue());
    }

    @Test
    void accessLogAnswersEveryColumnOfEachRecord() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        tollgate.awaitRows(1);

        JsonNode page = assertOk(200, auditor.get("/api/v1/access-log"));

        ApiContract.lastPage("records", ApiContract.ACCESS_RECORD_FORWARD_OK).assertMatches(page);
        assertEquals(List.of("id", "ts", "duration_ms", "node", "listener", "client_addr", "client_port",
                "username", "kind", "protocol", "method", "host", "port", "path", "status", "bytes_from_client",
                "bytes_to_client", "upstream_addr", "sni", "outcome", "reason", "alpn", "tls_version", "ja4"),
                ApiContract.ACCESS_RECORD_FORWARD_OK.fieldNames());
        assertEquals(1, page.get("records").size(), page::toString);
        JsonNode record = page.get("records").get(0);
        assertTrue(record.get("id").longValue() > 0, record::toString);
        assertEquals(NODE, record.get("node").textValue());
        assertEquals("main", record.get("listener").textValue());
        assertEquals("127.0.0.1", record.get("client_addr").textValue());
        assertTrue(record.get("client_port").intValue() > 0, record::toString);
        assertEquals("FORWARD", record.get("kind").textValue());
        assertEquals("HTTP/1.1", record.get("protocol").textValue());
        assertEquals("GET", record.get("method").textValue());
        assertEquals("127.0.0.1", record.get("host").textValue());
        assertEquals(origin.port(), record.get("port").intValue());
        assertEquals("/hello", record.get("path").textValue());
        assertEquals(200, record.get("status").intValue());
        assertEquals(0, record.get("bytes_from_client").longValue());
        assertEquals(5, record.get("bytes_to_client").longValue());
        assertEquals("127.0.0.1", record.get("upstream_addr").textValue());
        assertEquals("OK", record.get("outcome").textValue());
    }

    @Test
    void accessLogPageFullToItsLimitNamesTheCursorOfTheNextPage() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        assertEquals(404, getThroughProxy("/missing").status());
        tollgate.awaitRows(2);

        JsonNode first = assertOk(200, auditor.get("/api/v1/access-log?limit=1"));

        object().field("records", arrayOf(ApiContract.ACCESS_RECORD_FORWARD_OK))
                .field("next", JsonShape.integer()).assertMatches(first);
        assertEquals(1, first.get("records").size(), first::toString);
        long next = first.get("next").longValue();
        assertEquals(first.get("records").get(0).get("id").longValue(), next);
        JsonNode second = assertOk(200, auditor.get("/api/v1/access-log?limit=1&after=" + next));
        assertEquals("/missing", second.get("records").get(0).get("path").textValue());
    }

    @Test
    void accessLogAsCsvHasAHeaderOfTheSameColumns() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        tollgate.awaitRows(1);

        AdminClient.Reply csv = auditor.send("GET", "/api/v1/access-log", Map.of("Accept", "text/csv"),
                HttpRequest.BodyPublishers.noBody());

        assertEquals(200, csv.status(), csv::toString);
        assertTrue(csv.header("Content-Type").startsWith("text/csv"), csv::toString);
        String[] lines = csv.text().split("\r\n");
        assertEquals(2, lines.length, csv::text);
        assertEquals(String.join(",", ApiContract.ACCESS_RECORD_FORWARD_OK.fieldNames()), lines[0]);
        assertEquals(24, lines[1].split(",", -1).length, lines[1]);
    }

    @Test
    void adminEventsRecordsWhoChangedWhatAndWhatTheyWereAnswered() throws Exception {
        assertOk(201, admin.post("/api/v1/listeners", "{\"name\": \"audited\", \"port\": 0}"));
        assertEquals(204, admin.delete("/api/v1/listeners/audited?drainMs=0").status());
        JsonNode refusal = assertError(403, auditor.post("/api/v1/listeners/main/stop"));

        JsonNode page = Poll.forMatch("three admin events", () -> assertOk(200, auditor.get("/api/v1/admin-events")),
                body -> body.get("events").size() == 3);

        // The page's own fields; each event's shape depends on its result, so they are checked one by one.
        assertEquals(Set.of("events", "next"), names(page));
        assertTrue(page.get("next").isNull(), page::toString);
        List<JsonNode> events = new ArrayList<>();
        page.get("events").forEach(events::add);
        ApiContract.ADMIN_EVENT_OK.assertMatches(events.get(0));
        ApiContract.ADMIN_EVENT_OK.assertMatches(events.get(1));
        ApiContract.ADMIN_EVENT_REFUSED.assertMatches(events.get(2));
        assertEvent(events.get(0), "ADMIN", "listener.create", "audited", "OK", 201);
        assertEvent(events.get(1), "ADMIN", "listener.delete", "audited", "OK", 204);
        assertEvent(events.get(2), "AUDITOR", "listener.stop", "main", "REFUSED", 403);
        assertEquals(refusal.get("error").textValue(), events.get(2).get("detail").textValue());
        assertTrue(events.get(0).get("id").longValue() < events.get(1).get("id").longValue()
                && events.get(1).get("id").longValue() < events.get(2).get("id").longValue(), page::toString);
    }

    @Test
    void metricsIsPrometheusTextWithTheProxysCounters() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        Pattern requestLine = Pattern.compile("(?m)^tollgate_requests_total\\{[^}]*listener=\"main\"[^}]*"
                + "status_class=\"2xx\"[^}]*} 1\\.0$");

        AdminClient.Reply metrics = Poll.forMatch("the request in the metrics", () -> auditor.get("/metrics"),
                reply -> reply.status() != 200 || requestLine.matcher(reply.text()).find());

        assertEquals(200, metrics.status(), metrics::toString);
        assertTrue(metrics.header("Content-Type").startsWith("text/plain; version=0.0.4"),
                () -> "content type " + metrics.header("Content-Type"));
        String text = metrics.text();
        assertTrue(text.contains("# TYPE tollgate_requests_total counter"), text);
        assertTrue(text.contains("tollgate_tunnels_active{listener=\"main\"}"), text);
        Pattern sample = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*})? \\S+( \\d+)?");
        for (String line : text.split("\n")) {
            assertTrue(line.isEmpty() || line.startsWith("#") || sample.matcher(line).matches(),
                    () -> "not a Prometheus sample line: " + line);
        }
    }

    private static void assertEvent(JsonNode event, String role, String action, String listener, String result,
                                    int status) {
        assertEquals(NODE, event.get("node").textValue(), event::toString);
        assertEquals(role, event.get("role").textValue(), event::toString);
        assertEquals("127.0.0.1", event.get("client_addr").textValue(), event::toString);
        assertEquals(action, event.get("action").textValue(), event::toString);
        assertEquals(listener, event.get("listener").textValue(), event::toString);
        assertEquals(result, event.get("result").textValue(), event::toString);
        assertEquals(status, event.get("status").intValue(), event::toString);
    }

    private static JsonNode json(String text) throws Exception {
        return AdminClient.JSON.readTree(text);
    }

    private static String jsonList(List<String> values) throws Exception {
        return AdminClient.JSON.writeValueAsString(values);
    }

    private static Set<String> names(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
