package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.admin.AdminTokens;
import dev.tollgate.daemon.EchoServer;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Starts, for each test, a real daemon on port 0 (listener {@code main}, which may reach loopback origins and
 * CONNECT to the echo server; admin API with one extra allowed Host name), a plain HTTP origin and a TCP echo
 * server, all on 127.0.0.1, and stops them after the test. Holds both tokens and an {@link AdminClient}.
 */
abstract class AdminApiTestBase {

    static final String NODE = "admin-it-node";
    /** A name for the admin API that only {@code admin.allowedHosts} makes acceptable. */
    static final String EXTRA_ALLOWED_HOST = "tollgate-admin.test";
    private static final Duration POLL_LIMIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    TestOrigin origin;
    EchoServer echo;
    RunningTollgate tollgate;
    AdminClient api;
    String adminToken;
    String auditorToken;

    @BeforeEach
    void startDaemon() throws Exception {
        origin = TestOrigin.plain();
        echo = EchoServer.start();
        tollgate = RunningTollgate.startWithConfig(dir, "{\"nodeName\": \"" + NODE + "\", \"admin\": {\"port\": 0,"
                + " \"allowedHosts\": [\"" + EXTRA_ALLOWED_HOST + "\"]}, \"listeners\": ["
                + RunningTollgate.loopbackListener(echo.port()) + "]}");
        api = new AdminClient(tollgate.adminPort());
        adminToken = AdminClient.token(dir, AdminTokens.ADMIN_FILE);
        auditorToken = AdminClient.token(dir, AdminTokens.AUDITOR_FILE);
    }

    @AfterEach
    void stopDaemon() throws Exception {
        if (tollgate != null) {
            tollgate.close();
        }
        if (echo != null) {
            echo.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    /** A GET for {@code path} on the test origin, through listener {@code main}, on its own connection. */
    AdminClient.Reply getThroughProxy(String path) throws Exception {
        return RawHttp.exchange(tollgate.port(), RawHttp.head("GET", origin.base() + path,
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
            JsonNode page = assertOk(200, api.get("/api/v1/admin-events?limit=1000&after=" + last, adminToken));
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
        JsonNode page = assertOk(200, api.get("/api/v1/admin-events?limit=1000&after=" + after, adminToken));
        page.get("events").forEach(all::add);
        return all;
    }

    /**
     * Polls until at least {@code count} admin events above {@code after} are stored (an event is written as
     * the call's answer leaves, so it may land just after the client has read the answer), then returns them.
     */
    List<JsonNode> awaitEventsAfter(long after, int count) throws Exception {
        return poll("at least " + count + " admin event(s) after id " + after, () -> eventsAfter(after),
                events -> events.size() >= count);
    }

    /** Polls {@code source} until {@code done} holds, or fails with the last value after the deadline. */
    static <T> T poll(String what, Callable<T> source, Predicate<T> done) throws Exception {
        long deadline = System.nanoTime() + POLL_LIMIT.toNanos();
        T value;
        do {
            value = source.call();
            if (done.test(value)) {
                return value;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("waited " + POLL_LIMIT.toSeconds() + " s for " + what + "; last seen: " + value);
    }
}
