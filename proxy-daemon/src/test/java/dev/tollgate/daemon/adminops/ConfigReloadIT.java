package dev.tollgate.daemon.adminops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.TollgateProcess;
import dev.tollgate.testing.AdminClient.Reply;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Live reload of tollgate.json (issue #11), through {@code POST /api/v1/reload} on a daemon started from a file
 * and through SIGHUP to a child daemon: listeners added, removed with an open tunnel that finishes within the
 * drain, changed (their new policy applies at once), API-made listeners left alone, a broken file changing
 * nothing and saying why, keys outside the listeners reported as needing a restart, and every reload in the
 * admin-event trail.
 */
class ConfigReloadIT {

    private static final String LISTENERS = "/api/v1/listeners";
    private static final Pattern ADMIN = Pattern.compile("admin - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern STARTING = Pattern.compile(" - starting, state directory ");
    private static final Duration START_LIMIT = Duration.ofSeconds(60);

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
    void anApiReloadAddsRemovesWithDrainAndRestartsConfigListenersAndLeavesApiListenersAlone() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        Path config = writeConfig(echo, 60_000, "", listener("kept", echo.port()), listener("changed", echo.port()),
                listener("removed", echo.port()));
        RunningTollgate tollgate = open(RunningTollgate.startFromFile(config));
        AdminClient admin = AdminClient.asAdmin(dir.resolve("state"), tollgate.adminPort());
        admin.post(LISTENERS, listener("made-by-api", echo.port())).expect(201);
        int keptPort = boundPort(admin, "kept");
        int removedPort = boundPort(admin, "removed");
        RawTunnel tunnel = open(RawTunnel.established(removedPort, echo.port()));
        tunnel.roundTrip("before the reload");

        // "changed" may no longer tunnel to the echo server's port; "removed" goes; "added" comes.
        writeConfig(echo, 60_000, "", listener("kept", echo.port()), listener("changed", 1),
                listener("added", echo.port()));
        Future<Reply> reload = background.submit(() -> admin.post("/api/v1/reload", null));

        Poll.until("the removed listener refusing new connections", () -> RawHttpConnection.connectionRefused(removedPort));
        tunnel.roundTrip("during the drain");
        assertFalse(reload.isDone(), "the reload answered before the removed listener's tunnel ended: "
                + (reload.isDone() ? reload.get() : ""));
        tunnel.shutdownOutput();
        assertEquals(RawTunnel.Ending.EOF, tunnel.awaitEnd(), "the open tunnel was cut instead of finishing");

        JsonNode report = reload.get(2, TimeUnit.MINUTES).expect(200).json();
        assertEquals("applied", report.get("outcome").asText(), report.toString());
        assertEquals(List.of("added"), texts(report.get("added")), report.toString());
        assertEquals(List.of("removed"), texts(report.get("removed")), report.toString());
        assertEquals(List.of("changed"), texts(report.get("restarted")), report.toString());
        assertEquals(List.of("kept"), texts(report.get("unchanged")), report.toString());
        assertEquals(List.of(), texts(report.get("needsRestart")), report.toString());

        assertEquals(List.of("kept", "changed", "made-by-api", "added"), listenerNames(admin));
        admin.get(LISTENERS + "/removed").expect(404);
        assertEquals(keptPort, boundPort(admin, "kept"), "an unchanged listener was restarted");
        assertEquals(403, RawTunnel.refusedStatus(boundPort(admin, "changed"), echo.port()),
                "the changed listener's new connectPorts did not apply");
        try (RawTunnel viaAdded = RawTunnel.established(boundPort(admin, "added"), echo.port());
             RawTunnel viaApiListener = RawTunnel.established(boundPort(admin, "made-by-api"), echo.port())) {
            viaAdded.roundTrip("through the added listener");
            viaApiListener.roundTrip("through the API-made listener");
        }

        JsonNode row = Poll.forValue("the drained tunnel's row", () -> {
            JsonNode records = admin.get("/api/v1/access-log?listener=removed&kind=TUNNEL").expect(200).json()
                    .get("records");
            return records.size() == 1 ? records.get(0) : null;
        });
        assertEquals("OK", row.get("outcome").asText(), row.toString());
        assertEquals(tunnel.localPort(), row.get("client_port").asInt(), row.toString());

        JsonNode event = lastReloadEvent(admin);
        assertEquals("OK", event.get("result").asText(), event.toString());
        assertEquals("ADMIN", event.get("role").asText(), event.toString());
        assertTrue(event.get("detail").asText().contains("added added"), event.toString());
        assertTrue(event.get("detail").asText().contains("removed removed"), event.toString());
    }

    @Test
    void aBrokenFileChangesNothingAndSaysWhyAndKeysOutsideTheListenersNeedARestart() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        Path config = writeConfig(echo, 2_000, "", listener("main", echo.port()));
        RunningTollgate tollgate = open(RunningTollgate.startFromFile(config));
        AdminClient admin = AdminClient.asAdmin(dir.resolve("state"), tollgate.adminPort());
        int port = boundPort(admin, "main");

        Files.writeString(config, Files.readString(config).replace("\"port\": 0", "\"port\": 70000"));
        Reply refused = admin.post("/api/v1/reload", null).expect(400);
        String reason = refused.json().get("error").asText();
        assertTrue(reason.contains("port") && reason.contains("70000"), reason);
        assertEquals(port, boundPort(admin, "main"), "a refused reload touched the listener");
        try (RawTunnel tunnel = RawTunnel.established(port, echo.port())) {
            tunnel.roundTrip("still served after a refused reload");
        }
        JsonNode event = lastReloadEvent(admin);
        assertEquals("REFUSED", event.get("result").asText(), event.toString());
        assertEquals(reason, event.get("detail").asText(), event.toString());

        writeConfig(echo, 2_000, ", \"store\": {\"sqlPort\": -1, \"retentionDays\": 7}", listener("main",
                echo.port()));
        JsonNode report = admin.post("/api/v1/reload", null).expect(200).json();
        assertEquals("unchanged", report.get("outcome").asText(), report.toString());
        assertEquals(List.of("store.retentionDays"), texts(report.get("needsRestart")), report.toString());
        assertEquals(port, boundPort(admin, "main"));
    }

    @Test
    void aSighupWhileTheDaemonIsStartingIsCarriedOutOnceItHasStarted() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        Path config = writeConfig(echo, 2_000, "", listener("main", echo.port()));
        TollgateProcess child = launchReceivingSighup(config);
        // "starting" is logged once the signal handlers are in, before the database, admin and listeners start.
        child.awaitLine(STARTING, START_LIMIT);
        Files.writeString(config, "{ broken while starting");
        sighup(child);

        AdminClient admin = AdminClient.asAdmin(dir.resolve("state"),
                Integer.parseInt(child.awaitLine(ADMIN, START_LIMIT).group(1)));
        JsonNode refused = Poll.forValue("the reload asked for while starting, in the admin-event trail",
                () -> reloadEvent(admin, 1));
        assertEquals("REFUSED", refused.get("result").asText(), refused.toString());
        assertEquals("SIGNAL", refused.get("role").asText(), refused.toString());
        assertTrue(child.isAlive(), "SIGHUP while starting ended the daemon: " + child.output());
    }

    @Test
    void sighupReloadsTheFileAndABrokenFileLeavesTheDaemonRunning() throws Exception {
        EchoOrigin echo = open(EchoOrigin.start());
        Path config = writeConfig(echo, 2_000, "", listener("main", echo.port()));
        TollgateProcess child = launchReceivingSighup(config);
        int adminPort = Integer.parseInt(child.awaitLine(ADMIN, START_LIMIT).group(1));
        AdminClient admin = AdminClient.asAdmin(dir.resolve("state"), adminPort);
        int mainPort = Poll.forValue("listener main running", () -> {
            Reply view = admin.get(LISTENERS + "/main");
            return view.status() == 200 && view.json().get("boundPort").isInt() ? view.json().get("boundPort").asInt()
                    : null;
        });

        Files.writeString(config, "{ this is not JSON");
        sighup(child);
        JsonNode refused = Poll.forValue("the refused reload in the admin-event trail", () -> reloadEvent(admin, 1));
        assertEquals("REFUSED", refused.get("result").asText(), refused.toString());
        assertEquals("SIGNAL", refused.get("role").asText(), refused.toString());
        assertTrue(refused.get("detail").asText().contains(config.toString()), refused.toString());
        assertTrue(child.isAlive(), "SIGHUP ended the daemon: " + child.output());
        try (RawTunnel tunnel = RawTunnel.established(mainPort, echo.port())) {
            tunnel.roundTrip("served after a refused reload");
        }

        writeConfig(echo, 2_000, "", listener("main", echo.port()), listener("added", echo.port()));
        sighup(child);
        JsonNode applied = Poll.forValue("the applied reload in the admin-event trail", () -> reloadEvent(admin, 2));
        assertEquals("OK", applied.get("result").asText(), applied.toString());
        assertEquals("applied: added added", applied.get("detail").asText(), applied.toString());
        try (RawTunnel tunnel = RawTunnel.established(boundPort(admin, "added"), echo.port())) {
            tunnel.roundTrip("through the listener SIGHUP added");
        }
        assertEquals(mainPort, boundPort(admin, "main"));

        child.sigterm();
        assertEquals(0, child.awaitExit(Duration.ofMinutes(1)), child::output);
    }

    private Path writeConfig(EchoOrigin echo, long drainMs, String extraKeys, String... listeners) throws Exception {
        Path stateDir = dir.resolve("state");
        String store = extraKeys.contains("\"store\"") ? "" : ", \"store\": {\"sqlPort\": -1}";
        Path config = dir.resolve("tollgate.json");
        Files.writeString(config, "{\"stateDir\": \"" + stateDir + "\", \"admin\": {\"port\": 0}, \"drainTimeoutMs\": "
                + drainMs + store + extraKeys + ", \"listeners\": [" + String.join(", ", listeners) + "]}");
        return config;
    }

    private static String listener(String name, int connectPort) {
        return "{\"name\": \"" + name + "\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": ["
                + connectPort + "]}";
    }

    private static int boundPort(AdminClient admin, String name) throws Exception {
        JsonNode view = admin.get(LISTENERS + "/" + name).expect(200).json();
        assertEquals("RUNNING", view.get("state").asText(), view.toString());
        return view.get("boundPort").asInt();
    }

    private static List<String> listenerNames(AdminClient admin) throws Exception {
        List<String> names = new ArrayList<>();
        admin.get(LISTENERS).expect(200).json().get("listeners").forEach(l -> names.add(l.get("name").asText()));
        return names;
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(item -> texts.add(item.asText()));
        return texts;
    }

    private static JsonNode lastReloadEvent(AdminClient admin) throws Exception {
        JsonNode event = null;
        for (JsonNode e : admin.get("/api/v1/admin-events?limit=1000").expect(200).json().get("events")) {
            if ("config.reload".equals(e.get("action").asText())) {
                event = e;
            }
        }
        assertNotEquals(null, event, "no config.reload in the admin-event trail");
        return event;
    }

    /** The {@code n}th config.reload event (1-based), or null while there are fewer. */
    private static JsonNode reloadEvent(AdminClient admin, int n) throws Exception {
        int seen = 0;
        for (JsonNode e : admin.get("/api/v1/admin-events?limit=1000").expect(200).json().get("events")) {
            if ("config.reload".equals(e.get("action").asText()) && ++seen == n) {
                return e;
            }
        }
        return null;
    }

    /**
     * A child daemon on {@code config} whose SIGHUP has its default disposition whatever this JVM inherited: under
     * {@code nohup} (or any parent that ignores SIGHUP) a child would inherit the ignore, and the daemon, rightly,
     * would never see the signal.
     */
    private TollgateProcess launchReceivingSighup(Path config) throws Exception {
        TollgateProcess child = TollgateProcess.launchWithPrefix(dir, List.of("env", "--default-signal=HUP"),
                List.of("-Xmx256m"), "run", "--config", config.toString());
        opened.add(child::kill);
        return child;
    }

    private static void sighup(TollgateProcess child) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(child.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -HUP");
    }

    private <T extends AutoCloseable> T open(T closeable) {
        opened.add(closeable);
        return closeable;
    }
}
