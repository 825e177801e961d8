package dev.tollgate.daemon.adminops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.AdminClient.Reply;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listener's life through the admin API, over real HTTP, while it carries real traffic: created, stopped
 * with a drain (new connections refused at once, open tunnels allowed to finish, cut at the deadline), started
 * again, deleted, and brought back by a restart in the state it was left in.
 */
class ListenerLifecycleIT {

    private static final String LISTENERS = "/api/v1/listeners";
    /** Long enough for a tunnel to be quiet for {@link #QUIET} within it, with room to spare. */
    private static final long DRAIN_MS = 3_000;
    /** Longer than the 1 s to which Jetty shortens idle timeouts while a connector shuts down. */
    private static final Duration QUIET = Duration.ofMillis(1_500);
    /** A drain no test could wait out: a stop that returns anyway did not wait for its deadline. */
    private static final long HOUR_MS = 3_600_000;

    @TempDir
    Path dir;

    private final ExecutorService background = Executors.newCachedThreadPool();
    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeEverything() throws Exception {
        background.shutdownNow();
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        assertTrue(background.awaitTermination(60, TimeUnit.SECONDS), "a background admin call is still running");
    }

    @Test
    void stopRefusesNewConnectionsAtOnceKeepsAQuietTunnelOpenAndCutsItWhenTheDrainRunsOut() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        RunningTollgate tollgate = open(startDaemon(echo));
        AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
        int port = createListener(admin, "drained", echo.port());
        RawTunnel tunnel = open(RawTunnel.established(port, echo.port()));
        tunnel.roundTrip("before the stop");

        Future<Reply> stop = background.submit(() -> admin.post(LISTENERS + "/drained/stop?drainMs=" + DRAIN_MS,
                null));
        Poll.until("port " + port + " refuses new connections once the stop has begun",
                () -> RawHttpConnection.connectionRefused(port));

        tunnel.roundTrip("while the listener drains");
        long quietSince = System.nanoTime();
        Poll.until("the tunnel has been quiet for " + QUIET.toMillis() + " ms, listed as open all along", () -> {
            assertEquals(1, openTunnels(admin, "drained"), "the quiet tunnel was dropped from GET /api/v1/tunnels");
            return System.nanoTime() - quietSince >= QUIET.toNanos();
        });
        tunnel.roundTrip("after a quiet second and a half");

        RawTunnel.Ending ending = tunnel.awaitEnd();
        assertNotEquals(RawTunnel.Ending.STILL_OPEN, ending, "the tunnel outlived the drain");
        Reply stopped = stop.get(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS).expect(200);
        assertEquals("STOPPED", stopped.json().get("state").asText(), stopped.toString());
        assertTrue(stopped.json().get("boundPort").isNull(), stopped.toString());
        assertEquals("STOPPED", admin.get(LISTENERS + "/drained").expect(200).json().get("state").asText());
        assertTrue(RawHttpConnection.connectionRefused(port), "a stopped listener's port must refuse connections");

        JsonNode row = awaitOneTunnelRow(admin, "drained");
        assertEquals(200, row.get("status").asInt(), row.toString());
        assertEquals(tunnel.localPort(), row.get("client_port").asInt(), row.toString());
        assertEquals(echo.port(), row.get("port").asInt(), row.toString());
        assertEquals(tunnel.bytesSent(), row.get("bytes_from_client").asLong(), row.toString());
        assertEquals(tunnel.bytesReceived(), row.get("bytes_to_client").asLong(), row.toString());
        // The proxy cut the tunnel on its own schedule; the echo server did nothing wrong. Blaming the upstream
        // would raise the upstream-failure counters (and their alerts) at every listener stop.
        assertEquals("OK", row.get("outcome").asText(), row.toString());
        assertTrue(row.get("reason").isNull(), row.toString());
        assertEquals(0, admin.get("/api/v1/stats").expect(200).json().get("totals").get("upstreamFailures").asLong());
    }

    @Test
    void aTunnelThatFinishesWithinTheDrainEndsCleanlyAndTheStopReturnsWithoutWaitingForTheDeadline()
            throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        RunningTollgate tollgate = open(startDaemon(echo));
        AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
        int port = createListener(admin, "finishing", echo.port());
        RawTunnel tunnel = open(RawTunnel.established(port, echo.port()));
        tunnel.roundTrip("before the stop");

        Future<Reply> stop = background.submit(() -> admin.post(LISTENERS + "/finishing/stop?drainMs=" + HOUR_MS,
                null));
        Poll.until("port " + port + " refuses new connections once the stop has begun",
                () -> RawHttpConnection.connectionRefused(port));
        tunnel.roundTrip("the last words");
        tunnel.shutdownOutput();

        // The echo server half-closes in turn once it has read the client's end of stream.
        assertEquals(RawTunnel.Ending.EOF, tunnel.awaitEnd());
        tunnel.close();
        // With an hour to drain, an answer at all means the stop saw its last tunnel end and did not wait.
        Reply stopped = stop.get(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS).expect(200);
        assertEquals("STOPPED", stopped.json().get("state").asText(), stopped.toString());

        JsonNode row = awaitOneTunnelRow(admin, "finishing");
        assertEquals(200, row.get("status").asInt(), row.toString());
        assertEquals("OK", row.get("outcome").asText(), row.toString());
        assertTrue(row.get("reason").isNull(), row.toString());
        assertEquals(tunnel.bytesSent(), row.get("bytes_from_client").asLong(), row.toString());
        assertEquals(tunnel.bytesReceived(), row.get("bytes_to_client").asLong(), row.toString());
    }

    @Test
    void aStoppedListenerStartsAgainAndCarriesTraffic() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        RunningTollgate tollgate = open(startDaemon(echo));
        AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
        createListener(admin, "again", echo.port());
        admin.post(LISTENERS + "/again/stop?drainMs=0", null).expect(200);
        admin.post(LISTENERS + "/again/stop?drainMs=0", null).expect(409);

        Reply started = admin.post(LISTENERS + "/again/start", null).expect(200);

        JsonNode view = started.json();
        assertEquals("RUNNING", view.get("state").asText(), started.toString());
        assertTrue(view.get("boundPort").asInt() > 0, started.toString());
        assertFalse(view.get("startedAt").isNull(), started.toString());
        int port = view.get("boundPort").asInt();
        assertEquals(port, admin.get(LISTENERS + "/again").expect(200).json().get("boundPort").asInt());
        try (RawTunnel tunnel = RawTunnel.established(port, echo.port())) {
            tunnel.roundTrip("served again");
        }
        admin.post(LISTENERS + "/again/start", null).expect(409);
    }

    @Test
    void deleteAnswers204AndTheListenerIsGoneWithItsPort() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        RunningTollgate tollgate = open(startDaemon(echo));
        AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
        int port = createListener(admin, "doomed", echo.port());
        try (RawTunnel tunnel = RawTunnel.established(port, echo.port())) {
            tunnel.roundTrip("one exchange before it goes");
        }

        Reply deleted = admin.delete(LISTENERS + "/doomed?drainMs=0").expect(204);

        assertEquals("", deleted.text());
        assertFalse(listenerNames(admin).contains("doomed"), admin.get(LISTENERS).text());
        admin.get(LISTENERS + "/doomed").expect(404);
        assertTrue(RawHttpConnection.connectionRefused(port), "a deleted listener's port must refuse connections");
        admin.delete(LISTENERS + "/doomed").expect(404);
        assertTrue(listenerNames(admin).contains("main"), "deleting one listener left the others alone");
    }

    @Test
    void aRestartBringsApiListenersBackInTheirLastStateAndConfigListenersFromTheConfig() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        String main = listenerJson("main", echo.port());
        try (RunningTollgate first = RunningTollgate.startWithConfig(dir, "{\"drainTimeoutMs\": 2000,"
                + " \"listeners\": [" + main + ", " + listenerJson("retired", echo.port()) + "]}")) {
            AdminClient admin = AdminClient.asAdmin(dir, first.adminPort());
            createListener(admin, "left-running", echo.port());
            createListener(admin, "left-stopped", echo.port());
            createListener(admin, "deleted", echo.port());
            admin.post(LISTENERS + "/left-stopped/stop?drainMs=0", null).expect(200);
            admin.delete(LISTENERS + "/deleted?drainMs=0").expect(204);
            // Config listeners are not kept in the store: the config alone decides them at the next start.
            admin.post(LISTENERS + "/main/stop?drainMs=0", null).expect(200);
            admin.delete(LISTENERS + "/retired?drainMs=0").expect(204);
        }

        int otherPort = echo.port() == 65_535 ? 65_534 : echo.port() + 1;
        String changedMain = "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": ["
                + echo.port() + ", " + otherPort + "]}";
        try (RunningTollgate second = RunningTollgate.startWithConfig(dir, "{\"drainTimeoutMs\": 2000,"
                + " \"listeners\": [" + changedMain + "]}")) {
            AdminClient admin = AdminClient.asAdmin(dir, second.adminPort());

            assertEquals(List.of("main", "left-running", "left-stopped"), listenerNames(admin),
                    admin.get(LISTENERS).text());

            JsonNode mainView = admin.get(LISTENERS + "/main").expect(200).json();
            assertEquals("CONFIG", mainView.get("origin").asText(), mainView.toString());
            assertEquals("RUNNING", mainView.get("state").asText(), mainView.toString());
            assertEquals(List.of(echo.port(), otherPort), ints(mainView.get("definition").get("connectPorts")),
                    "main must be made from this start's config: " + mainView);
            try (RawTunnel tunnel = RawTunnel.established(mainView.get("boundPort").asInt(), echo.port())) {
                tunnel.roundTrip("through the config listener");
            }

            JsonNode running = admin.get(LISTENERS + "/left-running").expect(200).json();
            assertEquals("API", running.get("origin").asText(), running.toString());
            assertEquals("RUNNING", running.get("state").asText(), running.toString());
            assertEquals(List.of(echo.port()), ints(running.get("definition").get("connectPorts")),
                    running.toString());
            try (RawTunnel tunnel = RawTunnel.established(running.get("boundPort").asInt(), echo.port())) {
                tunnel.roundTrip("through the restored listener");
            }

            JsonNode stopped = admin.get(LISTENERS + "/left-stopped").expect(200).json();
            assertEquals("API", stopped.get("origin").asText(), stopped.toString());
            assertEquals("STOPPED", stopped.get("state").asText(), stopped.toString());
            assertTrue(stopped.get("boundPort").isNull(), stopped.toString());

            admin.get(LISTENERS + "/deleted").expect(404);
            admin.get(LISTENERS + "/retired").expect(404);

            // Started now, it is kept as RUNNING for the next start.
            admin.post(LISTENERS + "/left-stopped/start", null).expect(200);
        }

        try (RunningTollgate third = RunningTollgate.startWithConfig(dir, "{\"drainTimeoutMs\": 2000,"
                + " \"listeners\": [" + main + "]}")) {
            AdminClient admin = AdminClient.asAdmin(dir, third.adminPort());
            JsonNode restarted = admin.get(LISTENERS + "/left-stopped").expect(200).json();
            assertEquals("RUNNING", restarted.get("state").asText(), restarted.toString());
            try (RawTunnel tunnel = RawTunnel.established(restarted.get("boundPort").asInt(), echo.port())) {
                tunnel.roundTrip("through the listener started before the restart");
            }
            assertEquals(List.of(echo.port()), ints(admin.get(LISTENERS + "/main").expect(200).json()
                    .get("definition").get("connectPorts")), "main follows the config of each start");
        }
    }

    @Test
    void aDaemonStopCutsAnOpenTunnelAtItsDrainDeadlineAndKeepsItsRow() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        RawTunnel tunnel;
        try (RunningTollgate first = startDaemon(echo)) {
            tunnel = open(RawTunnel.established(first.port(), echo.port()));
            tunnel.roundTrip("before the daemon stops");

            Future<?> closing = background.submit(first::close);

            assertNotEquals(RawTunnel.Ending.STILL_OPEN, tunnel.awaitEnd(), "the tunnel outlived the drain");
            closing.get(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }

        try (RunningTollgate second = startDaemon(echo)) {
            JsonNode row = awaitOneTunnelRow(AdminClient.asAuditor(dir, second.adminPort()), "main");
            assertEquals(tunnel.bytesSent(), row.get("bytes_from_client").asLong(), row.toString());
            assertEquals(tunnel.bytesReceived(), row.get("bytes_to_client").asLong(), row.toString());
            assertEquals("OK", row.get("outcome").asText(), "cut by the stop, not by the upstream: " + row);
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private <T extends AutoCloseable> T open(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    /** A daemon whose config listener "main" may tunnel to the echo server; stops within 2 s of a close. */
    private RunningTollgate startDaemon(EchoOrigin echo) throws Exception {
        return RunningTollgate.startWithConfig(dir, "{\"drainTimeoutMs\": 2000, \"listeners\": ["
                + listenerJson("main", echo.port()) + "]}");
    }

    /** A listener on a free port that may tunnel to 127.0.0.1:{@code connectPort}. */
    private static String listenerJson(String name, int connectPort) {
        return "{\"name\": \"" + name + "\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": ["
                + connectPort + "]}";
    }

    /** Creates a listener through the API (201, RUNNING, origin API) and returns the port it bound. */
    private static int createListener(AdminClient admin, String name, int connectPort) throws Exception {
        Reply created = admin.post(LISTENERS, listenerJson(name, connectPort)).expect(201);
        JsonNode view = created.json();
        assertEquals(name, view.get("name").asText(), created.toString());
        assertEquals("RUNNING", view.get("state").asText(), created.toString());
        assertEquals("API", view.get("origin").asText(), created.toString());
        int port = view.get("boundPort").asInt();
        assertTrue(port > 0, created.toString());
        return port;
    }

    private static List<String> listenerNames(AdminClient admin) throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode listener : admin.get(LISTENERS).expect(200).json().get("listeners")) {
            names.add(listener.get("name").asText());
        }
        return names;
    }

    private static long openTunnels(AdminClient admin, String listener) throws Exception {
        long count = 0;
        for (JsonNode tunnel : admin.get("/api/v1/tunnels").expect(200).json().get("tunnels")) {
            if (listener.equals(tunnel.get("listener").asText())) {
                count++;
            }
        }
        return count;
    }

    /** Polls the access-log API until the listener's one tunnel row is there, and returns it. */
    private static JsonNode awaitOneTunnelRow(AdminClient admin, String listener) throws Exception {
        JsonNode records = Poll.forValue("the tunnel row of listener " + listener + " in the access log", () -> {
            JsonNode found = admin.get("/api/v1/access-log?kind=TUNNEL&listener=" + listener).expect(200).json()
                    .get("records");
            return found.isEmpty() ? null : found;
        });
        assertEquals(1, records.size(), records.toString());
        JsonNode row = records.get(0);
        assertEquals("CONNECT", row.get("method").asText(), row.toString());
        assertEquals(listener, row.get("listener").asText(), row.toString());
        return row;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asInt()));
        return values;
    }
}
