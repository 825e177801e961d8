package dev.tollgate.daemon.limits;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Limits and a reload of tollgate.json (issue #22 item 4): a reload that leaves a limit alone keeps its buckets
 * (an emptied one stays empty), one that changes it applies at once, and one after a user was removed from the
 * users file closes that user's open tunnels with a row saying why, leaving the others' alone.
 */
class LimitsReloadIT {

    @TempDir
    Path dir;

    @Test
    void aReloadKeepsTheBucketsOfAnUnchangedLimitAndAppliesAChangedOne() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            // One token a minute: nothing refills while the test runs.
            Path config = writeConfig(LimitsIT.listener(origin.port(),
                    "\"perClient\": {\"requestsPerMinute\": 1, \"burst\": 2}"));
            try (RunningTollgate tollgate = RunningTollgate.startFromFile(config)) {
                AdminClient admin = AdminClient.asAdmin(dir.resolve("state"), tollgate.adminPort());
                String url = "http://localhost:" + origin.port() + "/hello";
                assertEquals(200, RawHttpConnection.getVia(tollgate.port(), url).status());
                assertEquals(200, RawHttpConnection.getVia(tollgate.port(), url).status());
                assertEquals(429, RawHttpConnection.getVia(tollgate.port(), url).status());

                // Another key changes, the limit does not: the listener restarts, its empty bucket stays empty.
                writeConfig(LimitsIT.listener(origin.port(), "\"perClient\": {\"requestsPerMinute\": 1, \"burst\": 2}",
                        "\"idleTimeoutMs\": 50000"));
                JsonNode report = admin.post("/api/v1/reload", null).expect(200).json();
                assertEquals("main", report.get("restarted").get(0).asText(), report.toString());
                RawHttpConnection.Response still = RawHttpConnection.getVia(tollgate.port(), url);
                assertEquals(429, still.status(), "a restart is no way around a limit");
                long retryAfter = Long.parseLong(still.header("Retry-After"));
                assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);

                // The limit changes: a bucket of the new size, full.
                writeConfig(LimitsIT.listener(origin.port(), "\"perClient\": {\"requestsPerMinute\": 1, \"burst\": 10}",
                        "\"idleTimeoutMs\": 50000"));
                admin.post("/api/v1/reload", null).expect(200);
                for (int i = 0; i < 10; i++) {
                    assertEquals(200, RawHttpConnection.getVia(tollgate.port(), url).status(), "request " + i);
                }
                assertEquals(429, RawHttpConnection.getVia(tollgate.port(), url).status());
                assertEquals(3, tollgate.awaitRows(3, r -> r.outcome() == Outcome.RATE_LIMITED).size(), "one row per 429");
            }
        }
    }

    @Test
    void removingAUserAndReloadingClosesItsTunnelsWithARowAndLeavesTheOthersOpen() throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(users, LimitsIT.htpasswd("alice", "a-secret") + LimitsIT.htpasswd("bob", "b-secret"));
        try (EchoOrigin echo = EchoOrigin.start()) {
            Path config = writeConfig(LimitsIT.listener(echo.port(), "\"perUser\": {\"maxTunnels\": 5}",
                    "\"auth\": {\"type\": \"basic\", \"usersFile\": \"" + users + "\"}"));
            try (RunningTollgate tollgate = RunningTollgate.startFromFile(config);
                 RawTunnel alice = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(),
                         "Proxy-Authorization: " + LimitsIT.basic("alice", "a-secret") + "\r\n");
                 RawTunnel bob = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(),
                         "Proxy-Authorization: " + LimitsIT.basic("bob", "b-secret") + "\r\n")) {
                assertEquals(200, alice.status(), alice.head());
                assertEquals(200, bob.status(), bob.head());
                alice.roundTrip("before");
                bob.roundTrip("before");

                Files.writeString(users, LimitsIT.htpasswd("bob", "b-secret"));
                JsonNode report = AdminClient.asAdmin(dir.resolve("state"), tollgate.adminPort())
                        .post("/api/v1/reload", null).expect(200).json();
                assertEquals("main", report.get("unchanged").get(0).asText(), report.toString());

                alice.awaitEnd();
                bob.roundTrip("after: still open");
                AccessRecord row = tollgate.awaitRows(1).get(0);
                assertEquals("alice", row.username());
                assertEquals(200, row.status());
                assertEquals(Outcome.DENIED, row.outcome());
                assertEquals("auth: user \"alice\" is no longer in the users file (config reload): its open tunnel"
                        + " was closed", row.reason());
                bob.close();
                tollgate.awaitRows(2);
            }
        }
    }

    private Path writeConfig(String listener) throws Exception {
        Path config = dir.resolve("tollgate.json");
        Files.writeString(config, "{\"stateDir\": \"" + dir.resolve("state") + "\", \"admin\": {\"port\": 0},"
                + " \"store\": {\"sqlPort\": -1}, \"listeners\": [" + listener + "]}");
        return config;
    }
}
