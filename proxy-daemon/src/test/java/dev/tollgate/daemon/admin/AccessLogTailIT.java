package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.admin.internal.AccessLogTailResource;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.EventStream;
import dev.tollgate.testing.Poll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /api/v1/access-log/tail} and {@code GET /api/v1/whoami}, the two calls the console added: the
 * tail's stream (each new matching row as one event whose id is the row's), where it starts, its refusals and its
 * cap; whoami's answer for each role.
 */
class AccessLogTailIT extends AdminApiTestBase {

    private static final String TAIL = "/api/v1/access-log/tail";
    private static final String EVENT_STREAM = "text/event-stream";

    @Test
    void whoamiNamesTheRoleOfTheToken() throws Exception {
        JsonNode asAdmin = assertOk(200, admin.get("/api/v1/whoami"));
        JsonNode asAuditor = assertOk(200, auditor.get("/api/v1/whoami"));

        assertEquals("{\"role\":\"admin\"}", asAdmin.toString());
        assertEquals("{\"role\":\"auditor\"}", asAuditor.toString());
        assertError(401, anonymous.get("/api/v1/whoami"));
    }

    @Test
    void theTailSendsEachNewMatchingRowAsAnEventWithItsIdAndNothingFromBefore() throws Exception {
        assertEquals(404, getThroughProxy("/before").status());
        tollgate.awaitRows(1);

        try (EventStream tail = open(auditor, TAIL + "?status=404")) {
            assertEquals(200, tail.response().statusCode());
            assertTrue(tail.response().headers().firstValue("Content-Type").orElse("").startsWith(EVENT_STREAM));
            assertEquals("no-cache", tail.response().headers().firstValue("Cache-Control").orElse(null));
            assertEquals(404, getThroughProxy("/missing-1").status());
            assertEquals(200, getThroughProxy("/hello").status());
            assertEquals(404, getThroughProxy("/missing-2").status());

            List<EventStream.Event> events = tail.awaitEvents(2);

            assertEquals(2, events.size(), events::toString);
            List<String> paths = new ArrayList<>();
            for (EventStream.Event event : events) {
                JsonNode row = AdminClient.JSON.readTree(event.data());
                ApiContract.ACCESS_RECORD_FORWARD_OK.assertMatches(row);
                assertEquals(row.get("id").asText(), event.id());
                assertEquals(404, row.get("status").intValue());
                paths.add(row.get("path").textValue());
            }
            assertEquals(List.of("/missing-1", "/missing-2"), paths);
        }
    }

    @Test
    void theTailStartsAfterTheCursorItIsGivenOrTheLastEventIdOfAReconnect() throws Exception {
        for (String path : List.of("/one", "/two", "/three")) {
            assertEquals(404, getThroughProxy(path).status());
        }
        long first = tollgate.awaitRows(3).get(0).id();

        try (EventStream fromCursor = open(auditor, TAIL + "?after=" + first);
             EventStream reconnect = new EventStream(auditor.stream(TAIL, EVENT_STREAM, Map.of("Last-Event-ID",
                     String.valueOf(first + 1))))) {
            assertEquals(List.of(String.valueOf(first + 1), String.valueOf(first + 2)),
                    fromCursor.awaitEvents(2).stream().map(EventStream.Event::id).toList());
            assertEquals(List.of(String.valueOf(first + 2)),
                    reconnect.awaitEvents(1).stream().map(EventStream.Event::id).toList());
        }
    }

    /** A quiet stream still carries a comment line now and then, so that nothing between closes it as idle. */
    @Test
    void aQuietTailSendsHeartbeatComments() throws Exception {
        try (EventStream tail = open(auditor, TAIL)) {
            Poll.until("a heartbeat on a quiet tail", () -> tail.comments().contains("heartbeat"));

            assertEquals(List.of(), tail.events());
            assertFalse(tail.ended());
        }
    }

    @Test
    void theTailRefusesNoTokenABadTokenAndABadFilterBeforeItStreams() throws Exception {
        AdminClient.Reply none = anonymous.get(TAIL, EVENT_STREAM);
        assertError(401, none);
        assertEquals("Bearer realm=\"tollgate\"", none.header("WWW-Authenticate"));
        assertError(401, withToken(auditorToken + "x").get(TAIL, EVENT_STREAM));
        assertError(400, auditor.get(TAIL + "?status=abc", EVENT_STREAM));
        assertError(400, auditor.get(TAIL + "?limit=10", EVENT_STREAM));
        assertError(400, auditor.send("GET", TAIL, Map.of("Last-Event-ID", "x"), HttpRequest.BodyPublishers.noBody()));
    }

    @Test
    void tailsOverTheCapAre503UntilOneHangsUp() throws Exception {
        List<EventStream> open = new ArrayList<>();
        try {
            for (int i = 0; i < AccessLogTailResource.MAX_TAILS; i++) {
                open.add(closed.add(open(auditor, TAIL)));
                assertEquals(200, open.get(i).response().statusCode());
            }

            AdminClient.Reply refused = auditor.get(TAIL, EVENT_STREAM);
            assertError(503, refused);
            assertEquals(200, auditor.get("/api/v1/stats").status(), "the API still answers with every tail open");

            open.remove(0).close();
            EventStream another = Poll.forValue("a tail accepted once one has hung up", () -> {
                EventStream attempt = open(auditor, TAIL);
                if (attempt.response().statusCode() == 200) {
                    return attempt;
                }
                attempt.close();
                return null;
            });
            closed.add(another);
        } finally {
            for (EventStream stream : open) {
                stream.close();
            }
        }
    }

    private static EventStream open(AdminClient caller, String path) throws Exception {
        return new EventStream(caller.stream(path, EVENT_STREAM));
    }
}
