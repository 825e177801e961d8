package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.admin.AdminTokens;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Starts, for each test, a real daemon on port 0 (listener {@code main}, which may reach loopback origins and
 * CONNECT to the echo server; admin API with one extra allowed Host name), a plain HTTP origin and a TCP echo
 * server, all on 127.0.0.1, and stops them after the test. Holds both tokens and an {@link AdminClient} for
 * each caller: the admin, the auditor and one without a token.
 */
abstract class AdminApiTestBase {

    static final String NODE = "admin-it-node";
    /** A name for the admin API that only {@code admin.allowedHosts} makes acceptable. */
    static final String EXTRA_ALLOWED_HOST = "tollgate-admin.test";

    @TempDir
    Path dir;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    WebOrigin origin;
    EchoOrigin echo;
    RunningTollgate tollgate;
    AdminClient admin;
    AdminClient auditor;
    AdminClient anonymous;
    String adminToken;
    String auditorToken;

    @BeforeEach
    void startDaemon() throws Exception {
        origin = closed.add(WebOrigin.plain());
        echo = closed.add(EchoOrigin.start());
        tollgate = closed.add(RunningTollgate.startWithConfig(dir, "{\"nodeName\": \"" + NODE + "\","
                + " \"admin\": {\"port\": 0, \"allowedHosts\": [\"" + EXTRA_ALLOWED_HOST + "\"]}, \"listeners\": ["
                + RunningTollgate.loopbackListener(echo.port()) + "], \"sinks\": [{\"name\": \"lines\", \"type\":"
                + " \"file\", \"path\": \"" + dir.resolve("access.jsonl") + "\"}]}"));
        admin = AdminClient.asAdmin(dir, tollgate.adminPort());
        auditor = AdminClient.asAuditor(dir, tollgate.adminPort());
        anonymous = AdminClient.withoutToken(tollgate.adminPort());
        adminToken = AdminClient.token(dir, AdminTokens.ADMIN_FILE);
        auditorToken = AdminClient.token(dir, AdminTokens.AUDITOR_FILE);
    }

    /** Calls the admin API with {@code token} (null: none). */
    AdminClient withToken(String token) {
        return AdminClient.withToken(tollgate.adminPort(), token);
    }

    /** A GET for {@code path} on the test origin, through listener {@code main}, on its own connection. */
    RawHttpConnection.Response getThroughProxy(String path) throws Exception {
        return RawHttpConnection.exchange(tollgate.port(), RawHttpConnection.head("GET", origin.base() + path,
                "127.0.0.1:" + origin.port()));
    }

    /** Asserts an error answer: the status, a JSON content type, and a body that is exactly {"error": "..."}. */
    static JsonNode assertError(int status, AdminClient.Reply reply) {
        assertEquals(status, reply.status(), () -> "status of " + reply);
        String type = reply.header("Content-Type");
        assertTrue(type != null && type.startsWith("application/json"), () -> "content type of " + reply);
        JsonNode body = reply.json();
        ApiContract.ERROR.assertMatches(body);
        assertFalse(body.get("error").textValue().isBlank(), () -> "empty error message: " + reply);
        return body;
    }

    /** Asserts a 200 JSON answer and returns its body. */
    static JsonNode assertOk(int status, AdminClient.Reply reply) {
        assertEquals(status, reply.status(), () -> "status of " + reply);
        String type = reply.header("Content-Type");
        assertTrue(type != null && type.startsWith("application/json"), () -> "content type of " + reply);
        return reply.json();
    }

    /** The id of the newest admin event, or 0 when there is none. */
    long lastEventId() throws Exception {
        long last = 0;
        while (true) {
            JsonNode page = assertOk(200, admin.get("/api/v1/admin-events?limit=1000&after=" + last));
            JsonNode events = page.get("events");
            if (events.isEmpty()) {
                return last;
            }
            last = events.get(events.size() - 1).get("id").longValue();
            if (page.get("next").isNull()) {
                return last;
            }
        }
    }

    /** Every admin event with an id above {@code after}, oldest first. */
    List<JsonNode> eventsAfter(long after) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        JsonNode page = assertOk(200, admin.get("/api/v1/admin-events?limit=1000&after=" + after));
        page.get("events").forEach(all::add);
        return all;
    }

    /**
     * Polls until at least {@code count} admin events above {@code after} are stored (an event is written as
     * the call's answer leaves, so it may land just after the client has read the answer), then returns them.
     */
    List<JsonNode> awaitEventsAfter(long after, int count) throws Exception {
        return Poll.forMatch("at least " + count + " admin event(s) after id " + after, () -> eventsAfter(after),
                events -> events.size() >= count);
    }
}
