package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way the admin API says no, against a real daemon over real sockets: each error has its status and a
 * body that is exactly {@code {"error": "..."}} with a message; 401 carries a Bearer challenge and 405 an
 * Allow header. Every call to a mutating route, refused or not, leaves exactly one admin event naming the
 * caller's role, the action, the listener, the result and the status; reads leave none.
 */
class AdminAuthIT extends AdminApiTestBase {

    private static final String LISTENERS = "/api/v1/listeners";
    private static final List<String> READ_ROUTES = List.of("/api/v1/listeners", "/api/v1/listeners/main",
            "/api/v1/stats", "/api/v1/tunnels", "/api/v1/access-log", "/api/v1/admin-events", "/metrics");

    /** A call to a mutating route, and what its admin event must say when it is refused before it is read. */
    private record Mutation(String method, String path, String body, String action, String listener) {

        AdminClient.Reply send(AdminClient api, String token) throws Exception {
            if (body != null) {
                return api.postJson(path, token, body);
            }
            return api.send(method, path, token, Map.of(), HttpRequest.BodyPublishers.noBody());
        }
    }

    /**
     * Each mutating route once. The create is refused before its body is read, so its event names no listener.
     */
    private static final List<Mutation> MUTATIONS = List.of(
            new Mutation("POST", LISTENERS, "{\"name\": \"intruder\", \"port\": 0}", "listener.create", null),
            new Mutation("POST", LISTENERS + "/main/stop", null, "listener.stop", "main"),
            new Mutation("POST", LISTENERS + "/main/start", null, "listener.start", "main"),
            new Mutation("DELETE", LISTENERS + "/main", null, "listener.delete", "main"));

    @Test
    void withoutATokenEveryRouteButHealthIs401WithABearerChallenge() throws Exception {
        for (String path : READ_ROUTES) {
            assertUnauthorized(api.get(path, null));
        }
        assertNoEventAfter(lastEventId());
        for (Mutation mutation : MUTATIONS) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(api, null);
            assertUnauthorized(reply);
            assertAudited(mark, reply, "NONE", mutation.action(), mutation.listener());
        }
        assertMainUntouched();
        assertEquals(200, api.get("/api/v1/health", null).status());
    }

    @Test
    void aWrongTokenIs401WithABearerChallenge() throws Exception {
        String wrong = adminToken.substring(1) + "x";
        for (String path : READ_ROUTES) {
            assertUnauthorized(api.get(path, wrong));
        }
        for (Mutation mutation : MUTATIONS) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(api, wrong);
            assertUnauthorized(reply);
            assertAudited(mark, reply, "NONE", mutation.action(), mutation.listener());
        }
        // The right token under another scheme is no bearer token.
        assertUnauthorized(api.send("GET", "/api/v1/stats", null, Map.of("Authorization", "Basic " + adminToken),
                HttpRequest.BodyPublishers.noBody()));
        assertMainUntouched();
    }

    @Test
    void theAuditorReadsEveryReadRouteAndLeavesNoAdminEvent() throws Exception {
        long mark = lastEventId();
        for (String path : READ_ROUTES) {
            AdminClient.Reply reply = api.get(path, auditorToken);
            assertEquals(200, reply.status(), () -> path + ": " + reply);
        }
        assertEquals(200, api.get("/api/v1/health", auditorToken).status());
        assertNoEventAfter(mark);
    }

    @Test
    void theAdminsReadsLeaveNoAdminEvent() throws Exception {
        long mark = lastEventId();
        for (String path : READ_ROUTES) {
            AdminClient.Reply reply = api.get(path, adminToken);
            assertEquals(200, reply.status(), () -> path + ": " + reply);
        }
        assertNoEventAfter(mark);
    }

    @Test
    void theAuditorIsRefusedWith403OnEveryMutatingRoute() throws Exception {
        for (Mutation mutation : MUTATIONS) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(api, auditorToken);
            assertError(403, reply);
            assertAudited(mark, reply, "AUDITOR", mutation.action(), mutation.listener());
        }
        assertMainUntouched();
        assertError(404, api.get(LISTENERS + "/intruder", adminToken));
    }

    @Test
    void theAdminsMutationsAreEachAuditedOnce() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply created = api.postJson(LISTENERS, adminToken, "{\"name\": \"made\", \"port\": 0}");
        assertEquals(201, created.status(), created::toString);
        assertAudited(mark, created, "ADMIN", "listener.create", "made");

        mark = lastEventId();
        AdminClient.Reply stopped = api.post(LISTENERS + "/made/stop?drainMs=0", adminToken);
        assertEquals(200, stopped.status(), stopped::toString);
        assertAudited(mark, stopped, "ADMIN", "listener.stop", "made");

        mark = lastEventId();
        AdminClient.Reply started = api.post(LISTENERS + "/made/start", adminToken);
        assertEquals(200, started.status(), started::toString);
        assertAudited(mark, started, "ADMIN", "listener.start", "made");

        mark = lastEventId();
        AdminClient.Reply deleted = api.delete(LISTENERS + "/made?drainMs=0", adminToken);
        assertEquals(204, deleted.status(), deleted::toString);
        assertAudited(mark, deleted, "ADMIN", "listener.delete", "made");
    }

    @Test
    void aHostHeaderThatIsNotTheAdminAddressIs403() throws Exception {
        for (String host : List.of("evil.example", "evil.example:" + tollgate.adminPort(), "127.0.0.2",
                "localhost.evil.example", "tollgate-admin.test.evil.example")) {
            assertError(403, raw("GET", "/api/v1/stats", host, adminToken));
            assertError(403, raw("GET", "/api/v1/health", host, null));
        }
        long mark = lastEventId();
        AdminClient.Reply stop = raw("POST", LISTENERS + "/main/stop?drainMs=0", "evil.example", adminToken);
        assertError(403, stop);
        assertAudited(mark, stop, "NONE", "listener.stop", "main");
        assertMainUntouched();
    }

    @Test
    void theAdminAddressLocalhostLoopbackAndAllowedHostsAreAccepted() throws Exception {
        int port = tollgate.adminPort();
        for (String host : List.of("127.0.0.1:" + port, "127.0.0.1", "localhost:" + port, "LOCALHOST",
                "[::1]:" + port, EXTRA_ALLOWED_HOST, EXTRA_ALLOWED_HOST + ":" + port,
                EXTRA_ALLOWED_HOST.toUpperCase(Locale.ROOT))) {
            AdminClient.Reply reply = raw("GET", "/api/v1/stats", host, auditorToken);
            assertEquals(200, reply.status(), () -> "Host " + host + ": " + reply);
        }
    }

    @Test
    void anUnknownPathIs404() throws Exception {
        for (String path : List.of("/", "/api", "/api/v1", "/api/v1/nothing", "/api/v2/listeners",
                "/api/v1/listeners/main/restart", "/api/v1/stats/main", "/metrics/x")) {
            assertError(404, api.get(path, adminToken));
            assertError(404, api.get(path, null));
        }
    }

    @Test
    void anUnknownListenerIs404() throws Exception {
        assertError(404, api.get(LISTENERS + "/nobody", auditorToken));
        for (Mutation mutation : List.of(
                new Mutation("POST", LISTENERS + "/nobody/stop", null, "listener.stop", "nobody"),
                new Mutation("POST", LISTENERS + "/nobody/start", null, "listener.start", "nobody"),
                new Mutation("DELETE", LISTENERS + "/nobody", null, "listener.delete", "nobody"))) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(api, adminToken);
            JsonNode error = assertError(404, reply);
            assertTrue(error.get("error").textValue().contains("nobody"), error::toString);
            assertAudited(mark, reply, "ADMIN", mutation.action(), "nobody");
        }
    }

    @Test
    void aMethodTheRouteDoesNotHaveIs405WithAllow() throws Exception {
        assertNotAllowed(Set.of("GET"), api.send("PUT", "/api/v1/stats", adminToken,
                Map.of("Content-Type", "application/json"), HttpRequest.BodyPublishers.ofString("{}")));
        assertNotAllowed(Set.of("GET", "POST"), api.delete(LISTENERS, adminToken));
        assertNotAllowed(Set.of("GET", "DELETE"), api.post(LISTENERS + "/main", adminToken));
        assertNotAllowed(Set.of("POST"), api.get(LISTENERS + "/main/stop", adminToken));
        assertNotAllowed(Set.of("GET"), api.post("/api/v1/health", null));
        assertNotAllowed(Set.of("GET"), api.delete("/metrics", auditorToken));
        assertMainUntouched();
    }

    @Test
    void aTakenNameIs409() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply reply = api.postJson(LISTENERS, adminToken, "{\"name\": \"main\", \"port\": 0}");

        JsonNode error = assertError(409, reply);
        assertTrue(error.get("error").textValue().contains("main"), error::toString);
        assertAudited(mark, reply, "ADMIN", "listener.create", "main");
        assertMainUntouched();
    }

    @Test
    void aPortInUseIs409AndLeavesNoListenerBehind() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, RawHttp.loopback())) {
            long mark = lastEventId();
            AdminClient.Reply reply = api.postJson(LISTENERS, adminToken,
                    "{\"name\": \"clash\", \"port\": " + taken.getLocalPort() + "}");

            JsonNode error = assertError(409, reply);
            assertTrue(error.get("error").textValue().contains(Integer.toString(taken.getLocalPort())),
                    error::toString);
            assertAudited(mark, reply, "ADMIN", "listener.create", "clash");
        }
        assertError(404, api.get(LISTENERS + "/clash", adminToken));
    }

    @Test
    void startingARunningOrStoppingAStoppedListenerIs409() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply start = api.post(LISTENERS + "/main/start", adminToken);
        assertError(409, start);
        assertAudited(mark, start, "ADMIN", "listener.start", "main");

        assertEquals(200, api.post(LISTENERS + "/main/stop?drainMs=0", adminToken).status());
        mark = lastEventId();
        AdminClient.Reply stop = api.post(LISTENERS + "/main/stop?drainMs=0", adminToken);
        assertError(409, stop);
        assertAudited(mark, stop, "ADMIN", "listener.stop", "main");
        assertEquals("STOPPED", api.get(LISTENERS + "/main", adminToken).json().get("state").textValue());
    }

    @Test
    void anInvalidDefinitionIs400NamingTheKey() throws Exception {
        for (Map.Entry<String, String> bad : Map.of(
                "port", "{\"name\": \"bad\", \"port\": 70000}",
                "idleTimeoutMs", "{\"name\": \"bad\", \"port\": 0, \"idleTimeoutMs\": 0}",
                "connectPorts", "{\"name\": \"bad\", \"port\": 0, \"connectPorts\": [0]}",
                "allowClients", "{\"name\": \"bad\", \"port\": 0, \"allowClients\": [\"10.0.0.0/99\"]}",
                "logQuery", "{\"name\": \"bad\", \"port\": 0, \"logQuery\": \"yes\"}",
                "connectPorts[1]", "{\"name\": \"bad\", \"port\": 0, \"connectPorts\": [443, \"9-1\"]}",
                "allowDestinations[0]", "{\"name\": \"bad\", \"port\": 0, \"allowDestinations\": [\"*.\"]}",
                "auth.usersFile", "{\"name\": \"bad\", \"port\": 0, \"auth\": {\"type\": \"basic\"}}",
                "upstreamProxy.port", "{\"name\": \"bad\", \"port\": 0, \"upstreamProxy\": {\"host\": \"p\"}}",
                "maxConnections", "{\"name\": \"bad\", \"port\": 0, \"maxConnections\": 0}").entrySet()) {
            long mark = lastEventId();
            AdminClient.Reply reply = api.postJson(LISTENERS, adminToken, bad.getValue());
            JsonNode error = assertError(400, reply);
            assertTrue(error.get("error").textValue().contains(bad.getKey()),
                    () -> bad.getKey() + " not named in " + error);
            assertAudited(mark, reply, "ADMIN", "listener.create", "bad");
        }
        long mark = lastEventId();
        AdminClient.Reply badName = api.postJson(LISTENERS, adminToken, "{\"name\": \"../etc\", \"port\": 0}");
        JsonNode error = assertError(400, badName);
        assertTrue(error.get("error").textValue().contains("name"), error::toString);
        assertAudited(mark, badName, "ADMIN", "listener.create", "../etc");
        assertError(404, api.get(LISTENERS + "/bad", adminToken));
    }

    @Test
    void anUnknownKeyInTheBodyIs400NamingIt() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply reply = api.postJson(LISTENERS, adminToken, "{\"name\": \"typo\", \"prot\": 3128}");

        JsonNode error = assertError(400, reply);
        assertTrue(error.get("error").textValue().contains("prot"), error::toString);
        assertAudited(mark, reply, "ADMIN", "listener.create", "typo");
        assertError(404, api.get(LISTENERS + "/typo", adminToken));
    }

    @Test
    void aBodyThatIsNotJsonIs400() throws Exception {
        // Each would make a listener on a free port if it were taken for JSON.
        for (String body : List.of("{\"name\": ", "name=x", "{\"name\": \"x\", \"port\": 0} trailing",
                "{\"name\": \"x\", \"port\": 0}}", "{\"name\": \"x\", \"port\": 0} {}", "")) {
            long mark = lastEventId();
            AdminClient.Reply reply = api.postJson(LISTENERS, adminToken, body);
            assertError(400, reply);
            assertAudited(mark, reply, "ADMIN", "listener.create", null);
        }
    }

    @Test
    void aDuplicateKeyIs400AsInTollgateJson() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply reply = api.postJson(LISTENERS, adminToken,
                "{\"name\": \"first\", \"port\": 0, \"name\": \"second\"}");

        JsonNode error = assertError(400, reply);
        assertTrue(error.get("error").textValue().contains("name"), error::toString);
        assertAudited(mark, reply, "ADMIN", "listener.create", null);
        assertError(404, api.get(LISTENERS + "/first", adminToken));
        assertError(404, api.get(LISTENERS + "/second", adminToken));
    }

    @Test
    void aBodyThatIsNotAnObjectIs400() throws Exception {
        for (String body : List.of("[]", "[{\"name\": \"x\"}]", "\"x\"", "42", "true", "null")) {
            long mark = lastEventId();
            AdminClient.Reply reply = api.postJson(LISTENERS, adminToken, body);
            assertError(400, reply);
            assertAudited(mark, reply, "ADMIN", "listener.create", null);
        }
        assertEquals(1, api.get(LISTENERS, adminToken).json().get("listeners").size());
    }

    @Test
    void anUnknownQueryParameterIs400NamingIt() throws Exception {
        for (String path : List.of(LISTENERS + "?verbose=1", LISTENERS + "/main?verbose=1",
                "/api/v1/stats?verbose=1", "/api/v1/tunnels?verbose=1", "/api/v1/access-log?verbose=1",
                "/api/v1/admin-events?verbose=1", "/metrics?verbose=1")) {
            JsonNode error = assertError(400, api.get(path, auditorToken));
            assertTrue(error.get("error").textValue().contains("verbose"), () -> path + ": " + error);
        }
        long mark = lastEventId();
        AdminClient.Reply stop = api.post(LISTENERS + "/main/stop?drain=0", adminToken);
        JsonNode error = assertError(400, stop);
        assertTrue(error.get("error").textValue().contains("drain"), error::toString);
        assertAudited(mark, stop, "ADMIN", "listener.stop", "main");
        assertMainUntouched();
    }

    @Test
    void aBadDrainMsIs400() throws Exception {
        for (String value : List.of("-1", "abc", "1.5", "3600001", "")) {
            for (String method : List.of("POST", "DELETE")) {
                String path = LISTENERS + "/main" + (method.equals("POST") ? "/stop" : "") + "?drainMs=" + value;
                long mark = lastEventId();
                AdminClient.Reply reply = api.send(method, path, adminToken, Map.of(),
                        HttpRequest.BodyPublishers.noBody());
                JsonNode error = assertError(400, reply);
                assertTrue(error.get("error").textValue().contains("drainMs"), () -> path + ": " + error);
                assertAudited(mark, reply, "ADMIN", method.equals("POST") ? "listener.stop" : "listener.delete",
                        "main");
            }
        }
        assertMainUntouched();
    }

    @Test
    void aBodyOverOneMebibyteIs413() throws Exception {
        byte[] big = new byte[(1 << 20) + 1];
        Arrays.fill(big, (byte) ' ');
        big[0] = '{';
        big[big.length - 1] = '}';

        long mark = lastEventId();
        AdminClient.Reply declared = api.send("POST", LISTENERS, adminToken,
                Map.of("Content-Type", "application/json"), HttpRequest.BodyPublishers.ofByteArray(big));
        assertError(413, declared);
        assertAudited(mark, declared, "ADMIN", "listener.create", null);

        // Chunked: no declared length, so the limit is found while reading.
        mark = lastEventId();
        AdminClient.Reply chunked = api.send("POST", LISTENERS, adminToken,
                Map.of("Content-Type", "application/json"),
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)));
        assertError(413, chunked);
        assertAudited(mark, chunked, "ADMIN", "listener.create", null);
        assertEquals(1, api.get(LISTENERS, adminToken).json().get("listeners").size());
    }

    @Test
    void aBodyThatIsNotDeclaredJsonIs415() throws Exception {
        for (Map<String, String> headers : List.of(Map.of("Content-Type", "text/plain"),
                Map.of("Content-Type", "application/x-www-form-urlencoded"), Map.<String, String>of())) {
            long mark = lastEventId();
            AdminClient.Reply reply = api.send("POST", LISTENERS, adminToken, headers,
                    HttpRequest.BodyPublishers.ofString("{\"name\": \"plain\", \"port\": 0}"));
            assertError(415, reply);
            assertAudited(mark, reply, "ADMIN", "listener.create", null);
        }
        assertError(404, api.get(LISTENERS + "/plain", adminToken));
    }

    @Test
    void pathTraversalInAListenerNameNeverReachesAResource() throws Exception {
        long mark = lastEventId();
        // Jetty refuses most of these as ambiguous (400); the rest fail the route's name pattern (404).
        for (String name : List.of("..%2F..%2Fetc", "a%00b", "%2e%2e", "..%2Fmain", "main%2F..%2F..",
                "%2e%2e%2f%2e%2e%2fetc", "a%5Cb", "main%00", "a%20b", "%C3%A9t%C3%A9", "a".repeat(65))) {
            for (String[] call : List.of(new String[] {"GET", LISTENERS + "/" + name},
                    new String[] {"POST", LISTENERS + "/" + name + "/stop"},
                    new String[] {"POST", LISTENERS + "/" + name + "/start"},
                    new String[] {"DELETE", LISTENERS + "/" + name})) {
                AdminClient.Reply reply = raw(call[0], call[1], "127.0.0.1:" + tollgate.adminPort(), adminToken);
                assertTrue(reply.status() == 400 || reply.status() == 404,
                        () -> call[0] + " " + call[1] + ": " + reply);
                assertError(reply.status(), reply);
            }
        }
        assertMainUntouched();
        // Whatever was audited, no event names a listener that is not a plain name.
        for (JsonNode event : eventsAfter(mark)) {
            JsonNode listener = event.get("listener");
            assertTrue(listener.isNull() || listener.textValue().matches("[A-Za-z0-9._-]+")
                    && !listener.textValue().equals("..") && !listener.textValue().equals("."), event::toString);
        }
    }

    @Test
    void theAdminApiIsNotReachableThroughTheProxy() throws Exception {
        int adminPort = tollgate.adminPort();
        for (String authority : List.of("127.0.0.1:" + adminPort, "localhost:" + adminPort)) {
            AdminClient.Reply reply = RawHttp.exchange(tollgate.port(), RawHttp.head("GET",
                    "http://" + authority + "/api/v1/health", authority));
            assertEquals(508, reply.status(), () -> authority + ": " + reply);
            assertFalse(reply.text().contains("\"status\""), reply::toString);
        }
        long mark = lastEventId();
        AdminClient.Reply stop = RawHttp.exchange(tollgate.port(), RawHttp.head("POST",
                "http://127.0.0.1:" + adminPort + LISTENERS + "/main/stop?drainMs=0", "127.0.0.1:" + adminPort,
                "Authorization: Bearer " + adminToken, "Content-Length: 0"));
        assertEquals(508, stop.status(), stop::toString);
        assertTrue(eventsAfter(mark).isEmpty(), "an admin call got through the proxy");
        assertMainUntouched();
        assertEquals(3, tollgate.awaitRows(3, r -> r.outcome() == Outcome.LOOP).size());
    }

    private AdminClient.Reply raw(String method, String path, String host, String token) throws Exception {
        List<String> headers = new ArrayList<>();
        if (token != null) {
            headers.add("Authorization: Bearer " + token);
        }
        if (!method.equals("GET")) {
            headers.add("Content-Length: 0");
        }
        return RawHttp.exchange(tollgate.adminPort(), RawHttp.head(method, path, host,
                headers.toArray(String[]::new)));
    }

    private static void assertUnauthorized(AdminClient.Reply reply) {
        assertError(401, reply);
        String challenge = reply.header("WWW-Authenticate");
        assertNotNull(challenge, reply::toString);
        assertTrue(challenge.startsWith("Bearer"), challenge);
    }

    private static void assertNotAllowed(Set<String> allowed, AdminClient.Reply reply) {
        assertError(405, reply);
        String allow = reply.header("Allow");
        assertNotNull(allow, reply::toString);
        assertEquals(allowed, Arrays.stream(allow.split(",")).map(String::trim)
                .collect(Collectors.toCollection(TreeSet::new)), reply::toString);
    }

    /** Listener main is still there, running, as the config made it. */
    private void assertMainUntouched() throws Exception {
        JsonNode main = assertOk(200, api.get(LISTENERS + "/main", adminToken));
        assertEquals("RUNNING", main.get("state").textValue(), main::toString);
        assertEquals(tollgate.port(), main.get("boundPort").intValue());
        assertEquals(1, api.get(LISTENERS, adminToken).json().get("listeners").size());
    }

    /**
     * Exactly one admin event after {@code mark}, for {@code reply}: the role, action and listener given, the
     * status answered, OK below 400 and REFUSED (with the error message as detail) from 400.
     */
    private void assertAudited(long mark, AdminClient.Reply reply, String role, String action, String listener)
            throws Exception {
        List<JsonNode> events = awaitEventsAfter(mark, 1);
        assertEquals(1, events.size(), () -> "one event for " + reply + ", got " + events);
        JsonNode event = events.get(0);
        boolean refused = reply.status() >= 400;
        (refused ? ApiContract.ADMIN_EVENT_REFUSED : ApiContract.ADMIN_EVENT_OK)
                .with("listener", listener == null ? JsonShape.nul() : JsonShape.string()).assertMatches(event);
        assertEquals(NODE, event.get("node").textValue(), event::toString);
        assertEquals(role, event.get("role").textValue(), event::toString);
        assertEquals("127.0.0.1", event.get("client_addr").textValue(), event::toString);
        assertEquals(action, event.get("action").textValue(), event::toString);
        if (listener == null) {
            assertNull(event.get("listener").textValue(), event::toString);
        } else {
            assertEquals(listener, event.get("listener").textValue(), event::toString);
        }
        assertEquals(refused ? "REFUSED" : "OK", event.get("result").textValue(), event::toString);
        assertEquals(reply.status(), event.get("status").intValue(), event::toString);
        if (refused) {
            assertEquals(reply.json().get("error").textValue(), event.get("detail").textValue(), event::toString);
        }
    }

    /**
     * No admin event after {@code mark} but the marker this sends: a refused stop of a listener that does not
     * exist. Waiting for the marker's event makes sure any event an earlier call left has been written too.
     */
    private void assertNoEventAfter(long mark) throws Exception {
        assertUnauthorized(api.post(LISTENERS + "/no-event-marker/stop", null));
        List<JsonNode> events = awaitEventsAfter(mark, 1);
        assertEquals(1, events.size(), () -> "events other than the marker: " + events);
        assertEquals("no-event-marker", events.get(0).get("listener").textValue(), events::toString);
    }
}
