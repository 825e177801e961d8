package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.RawHttpConnection;
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
    private static final List<String> READ_ROUTES = List.of("/api/v1/whoami", "/api/v1/listeners",
            "/api/v1/listeners/main", "/api/v1/stats", "/api/v1/tunnels", "/api/v1/access-log",
            "/api/v1/summary/series", "/api/v1/summary/top?dim=host", "/api/v1/admin-events", "/metrics");

    /** A call to a mutating route, and what its admin event must say when it is refused before it is read. */
    private record Mutation(String method, String path, String body, String action, String listener) {

        AdminClient.Reply send(AdminClient caller) throws Exception {
            if (body != null) {
                return caller.post(path, body);
            }
            return caller.send(method, path, Map.of(), HttpRequest.BodyPublishers.noBody());
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
            assertUnauthorized(anonymous.get(path));
        }
        assertNoEventAfter(lastEventId());
        for (Mutation mutation : MUTATIONS) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(anonymous);
            assertUnauthorized(reply);
            assertAudited(mark, reply, "NONE", mutation.action(), mutation.listener());
        }
        assertMainUntouched();
        assertEquals(200, anonymous.get("/api/v1/health").status());
    }

    @Test
    void aWrongTokenIs401WithABearerChallenge() throws Exception {
        String wrong = adminToken.substring(1) + "x";
        for (String path : READ_ROUTES) {
            assertUnauthorized(withToken(wrong).get(path));
        }
        for (Mutation mutation : MUTATIONS) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(withToken(wrong));
            assertUnauthorized(reply);
            assertAudited(mark, reply, "NONE", mutation.action(), mutation.listener());
        }
        // The right token under another scheme is no bearer token.
        assertUnauthorized(anonymous.send("GET", "/api/v1/stats", Map.of("Authorization", "Basic " + adminToken),
                HttpRequest.BodyPublishers.noBody()));
        assertMainUntouched();
    }

    @Test
    void theAuditorReadsEveryReadRouteAndLeavesNoAdminEvent() throws Exception {
        long mark = lastEventId();
        for (String path : READ_ROUTES) {
            AdminClient.Reply reply = auditor.get(path);
            assertEquals(200, reply.status(), () -> path + ": " + reply);
        }
        assertEquals(200, auditor.get("/api/v1/health").status());
        assertNoEventAfter(mark);
    }

    @Test
    void theAdminsReadsLeaveNoAdminEvent() throws Exception {
        long mark = lastEventId();
        for (String path : READ_ROUTES) {
            AdminClient.Reply reply = admin.get(path);
            assertEquals(200, reply.status(), () -> path + ": " + reply);
        }
        assertNoEventAfter(mark);
    }

    @Test
    void theAuditorIsRefusedWith403OnEveryMutatingRoute() throws Exception {
        for (Mutation mutation : MUTATIONS) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(auditor);
            assertError(403, reply);
            assertAudited(mark, reply, "AUDITOR", mutation.action(), mutation.listener());
        }
        assertMainUntouched();
        assertError(404, admin.get(LISTENERS + "/intruder"));
    }

    @Test
    void theAdminsMutationsAreEachAuditedOnce() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply created = admin.post(LISTENERS, "{\"name\": \"made\", \"port\": 0}");
        assertEquals(201, created.status(), created::toString);
        assertAudited(mark, created, "ADMIN", "listener.create", "made");

        mark = lastEventId();
        AdminClient.Reply stopped = admin.post(LISTENERS + "/made/stop?drainMs=0");
        assertEquals(200, stopped.status(), stopped::toString);
        assertAudited(mark, stopped, "ADMIN", "listener.stop", "made");

        mark = lastEventId();
        AdminClient.Reply started = admin.post(LISTENERS + "/made/start");
        assertEquals(200, started.status(), started::toString);
        assertAudited(mark, started, "ADMIN", "listener.start", "made");

        mark = lastEventId();
        AdminClient.Reply deleted = admin.delete(LISTENERS + "/made?drainMs=0");
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
        for (String path : List.of("/api", "/api/v1", "/api/v1/nothing", "/api/v2/listeners",
                "/api/v1/listeners/main/restart", "/api/v1/stats/main", "/metrics/x")) {
            assertError(404, admin.get(path));
            assertError(404, anonymous.get(path));
        }
    }

    @Test
    void anUnknownListenerIs404() throws Exception {
        assertError(404, auditor.get(LISTENERS + "/nobody"));
        for (Mutation mutation : List.of(
                new Mutation("POST", LISTENERS + "/nobody/stop", null, "listener.stop", "nobody"),
                new Mutation("POST", LISTENERS + "/nobody/start", null, "listener.start", "nobody"),
                new Mutation("DELETE", LISTENERS + "/nobody", null, "listener.delete", "nobody"))) {
            long mark = lastEventId();
            AdminClient.Reply reply = mutation.send(admin);
            JsonNode error = assertError(404, reply);
            assertTrue(error.get("error").textValue().contains("nobody"), error::toString);
            assertAudited(mark, reply, "ADMIN", mutation.action(), "nobody");
        }
    }

    @Test
    void aMethodTheRouteDoesNotHaveIs405WithAllow() throws Exception {
        assertNotAllowed(Set.of("GET"), admin.send("PUT", "/api/v1/stats",
                Map.of("Content-Type", "application/json"), HttpRequest.BodyPublishers.ofString("{}")));
        assertNotAllowed(Set.of("GET", "POST"), admin.delete(LISTENERS));
        assertNotAllowed(Set.of("GET", "DELETE"), admin.post(LISTENERS + "/main"));
        assertNotAllowed(Set.of("POST"), admin.get(LISTENERS + "/main/stop"));
        assertNotAllowed(Set.of("GET"), anonymous.post("/api/v1/health"));
        assertNotAllowed(Set.of("GET"), auditor.delete("/metrics"));
        assertMainUntouched();
    }

    @Test
    void aTakenNameIs409() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply reply = admin.post(LISTENERS, "{\"name\": \"main\", \"port\": 0}");

        JsonNode error = assertError(409, reply);
        assertTrue(error.get("error").textValue().contains("main"), error::toString);
        assertAudited(mark, reply, "ADMIN", "listener.create", "main");
        assertMainUntouched();
    }

    @Test
    void aPortInUseIs409AndLeavesNoListenerBehind() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, RawHttpConnection.loopback())) {
            long mark = lastEventId();
            AdminClient.Reply reply = admin.post(LISTENERS,
                    "{\"name\": \"clash\", \"port\": " + taken.getLocalPort() + "}");

            JsonNode error = assertError(409, reply);
            assertTrue(error.get("error").textValue().contains(Integer.toString(taken.getLocalPort())),
                    error::toString);
            assertAudited(mark, reply, "ADMIN", "listener.create", "clash");
        }
        assertError(404, admin.get(LISTENERS + "/clash"));
    }

    @Test
    void startingARunningOrStoppingAStoppedListenerIs409() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply start = admin.post(LISTENERS + "/main/start");
        assertError(409, start);
        assertAudited(mark, start, "ADMIN", "listener.start", "main");

        assertEquals(200, admin.post(LISTENERS + "/main/stop?drainMs=0").status());
        mark = lastEventId();
        AdminClient.Reply stop = admin.post(LISTENERS + "/main/stop?drainMs=0");
        assertError(409, stop);
        assertAudited(mark, stop, "ADMIN", "listener.stop", "main");
        assertEquals("STOPPED", admin.get(LISTENERS + "/main").json().get("state").textValue());
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
            AdminClient.Reply reply = admin.post(LISTENERS, bad.getValue());
            JsonNode error = assertError(400, reply);
            assertTrue(error.get("error").textValue().contains(bad.getKey()),
                    () -> bad.getKey() + " not named in " + error);
            assertAudited(mark, reply, "ADMIN", "listener.create", "bad");
        }
        long mark = lastEventId();
        AdminClient.Reply badName = admin.post(LISTENERS, "{\"name\": \"../etc\", \"port\": 0}");
        JsonNode error = assertError(400, badName);
        assertTrue(error.get("error").textValue().contains("name"), error::toString);
        assertAudited(mark, badName, "ADMIN", "listener.create", "../etc");
        assertError(404, admin.get(LISTENERS + "/bad"));
    }

    @Test
    void anUnknownKeyInTheBodyIs400NamingIt() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply reply = admin.post(LISTENERS, "{\"name\": \"typo\", \"prot\": 3128}");

        JsonNode error = assertError(400, reply);
        assertTrue(error.get("error").textValue().contains("prot"), error::toString);
        assertAudited(mark, reply, "ADMIN", "listener.create", "typo");
        assertError(404, admin.get(LISTENERS + "/typo"));
    }

    @Test
    void aBodyThatIsNotJsonIs400() throws Exception {
        // Each would make a listener on a free port if it were taken for JSON.
        for (String body : List.of("{\"name\": ", "name=x", "{\"name\": \"x\", \"port\": 0} trailing",
                "{\"name\": \"x\", \"port\": 0}}", "{\"name\": \"x\", \"port\": 0} {}", "")) {
            long mark = lastEventId();
            AdminClient.Reply reply = admin.post(LISTENERS, body);
            assertError(400, reply);
            assertAudited(mark, reply, "ADMIN", "listener.create", null);
        }
    }

    @Test
    void aDuplicateKeyIs400AsInTollgateJson() throws Exception {
        long mark = lastEventId();
        AdminClient.Reply reply = admin.post(LISTENERS,
                "{\"name\": \"first\", \"port\": 0, \"name\": \"second\"}");

        JsonNode error = assertError(400, reply);
        assertTrue(error.get("error").textValue().contains("name"), error::toString);
        assertAudited(mark, reply, "ADMIN", "listener.create", null);
        assertError(404, admin.get(LISTENERS + "/first"));
        assertError(404, admin.get(LISTENERS + "/second"));
    }

    @Test
    void aBodyThatIsNotAnObjectIs400() throws Exception {
        for (String body : List.of("[]", "[{\"name\": \"x\"}]", "\"x\"", "42", "true", "null")) {
            long mark = lastEventId();
            AdminClient.Reply reply = admin.post(LISTENERS, body);
            assertError(400, reply);
            assertAudited(mark, reply, "ADMIN", "listener.create", null);
        }
        assertEquals(1, admin.get(LISTENERS).json().get("listeners").size());
    }

    @Test
    void anUnknownQueryParameterIs400NamingIt() throws Exception {
        for (String path : List.of(LISTENERS + "?verbose=1", LISTENERS + "/main?verbose=1",
                "/api/v1/stats?verbose=1", "/api/v1/tunnels?verbose=1", "/api/v1/access-log?verbose=1",
                "/api/v1/summary/series?verbose=1", "/api/v1/summary/top?dim=host&verbose=1",
                "/api/v1/admin-events?verbose=1", "/metrics?verbose=1")) {
            JsonNode error = assertError(400, auditor.get(path));
            assertTrue(error.get("error").textValue().contains("verbose"), () -> path + ": " + error);
        }
        long mark = lastEventId();
        AdminClient.Reply stop = admin.post(LISTENERS + "/main/stop?drain=0");
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
                AdminClient.Reply reply = admin.send(method, path, Map.of(),
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
        AdminClient.Reply declared = admin.send("POST", LISTENERS,
                Map.of("Content-Type", "application/json"), HttpRequest.BodyPublishers.ofByteArray(big));
        assertError(413, declared);
        assertAudited(mark, declared, "ADMIN", "listener.create", null);

        // Chunked: no declared length, so the limit is found while reading.
        mark = lastEventId();
        AdminClient.Reply chunked = admin.send("POST", LISTENERS,
                Map.of("Content-Type", "application/json"),
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)));
        assertError(413, chunked);
        assertAudited(mark, chunked, "ADMIN", "listener.create", null);
        assertEquals(1, admin.get(LISTENERS).json().get("listeners").size());
    }

    @Test
    void aBodyThatIsNotDeclaredJsonIs415() throws Exception {
        for (Map<String, String> headers : List.of(Map.of("Content-Type", "text/plain"),
                Map.of("Content-Type", "application/x-www-form-urlencoded"), Map.<String, String>of())) {
            long mark = lastEventId();
            AdminClient.Reply reply = admin.send("POST", LISTENERS, headers,
                    HttpRequest.BodyPublishers.ofString("{\"name\": \"plain\", \"port\": 0}"));
            assertError(415, reply);
            assertAudited(mark, reply, "ADMIN", "listener.create", null);
        }
        assertError(404, admin.get(LISTENERS + "/plain"));
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
            RawHttpConnection.Response reply = RawHttpConnection.exchange(tollgate.port(),
                    RawHttpConnection.head("GET", "http://" + authority + "/api/v1/health", authority));
            assertEquals(508, reply.status(), () -> authority + ": " + reply.bodyText());
            assertFalse(reply.bodyText().contains("\"status\""), reply::bodyText);
        }
        long mark = lastEventId();
        RawHttpConnection.Response stop = RawHttpConnection.exchange(tollgate.port(), RawHttpConnection.head("POST",
                "http://127.0.0.1:" + adminPort + LISTENERS + "/main/stop?drainMs=0", "127.0.0.1:" + adminPort,
                "Authorization: Bearer " + adminToken, "Content-Length: 0"));
        assertEquals(508, stop.status(), stop::bodyText);
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
        return anonymous.sendRaw(RawHttpConnection.head(method, path, host, headers.toArray(String[]::new)));
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
        JsonNode main = assertOk(200, admin.get(LISTENERS + "/main"));
        assertEquals("RUNNING", main.get("state").textValue(), main::toString);
        assertEquals(tollgate.port(), main.get("boundPort").intValue());
        assertEquals(1, admin.get(LISTENERS).json().get("listeners").size());
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
        assertUnauthorized(anonymous.post(LISTENERS + "/no-event-marker/stop"));
        List<JsonNode> events = awaitEventsAfter(mark, 1);
        assertEquals(1, events.size(), () -> "events other than the marker: " + events);
        assertEquals("no-event-marker", events.get(0).get("listener").textValue(), events::toString);
    }
}
