package dev.tollgate.daemon.limits;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.clients.ClientTool;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listener's limits on a real daemon with real clients (issue #22 item 4): each limit answers 429 (or closes)
 * at its bound under concurrent load, with as many RATE_LIMITED rows as 429s; reloads change limits and end the
 * tunnels of a removed user; a flood of new clients and hosts meets a bounded set of buckets. Nothing waits on a
 * clock: where time matters, only a lower bound the limit itself guarantees is asserted.
 */
class LimitsIT {

    private static final int LOAD = 40;

    @TempDir
    Path dir;

    @Test
    void concurrentRequestsOverTheClientRateAre429WithRetryAfterAndOneRateLimitedRowEach() throws Exception {
        ClientTool.assumeInstalled("curl", "curl");
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"perClient\": {\"requestsPerMinute\": 60, \"burst\": 5}"))) {
            HttpClient client = HttpClient.newBuilder().proxy(tollgate.proxySelector()).build();
            HttpRequest hello = HttpRequest.newBuilder(URI.create("http://localhost:" + origin.port() + "/hello"))
                    .build();
            long started = System.nanoTime();
            List<HttpResponse<String>> answers = inParallel(LOAD,
                    () -> client.send(hello, HttpResponse.BodyHandlers.ofString()));
            long elapsedSeconds = (System.nanoTime() - started) / 1_000_000_000L + 1;
            long ok = answers.stream().filter(r -> r.statusCode() == 200).count();
            List<HttpResponse<String>> limited = answers.stream().filter(r -> r.statusCode() == 429).toList();
            assertEquals(LOAD, ok + limited.size(), "every answer is 200 or 429");
            // The burst, plus at most one token a second refilled while the load ran.
            assertTrue(ok >= 5 && ok <= 5 + elapsedSeconds, ok + " passed in about " + elapsedSeconds + " s");
            for (HttpResponse<String> answer : limited) {
                long retryAfter = Long.parseLong(answer.headers().firstValue("Retry-After").orElseThrow());
                assertEquals(1, retryAfter, "a token a second: the next one within a second, rounded up");
                assertTrue(answer.body().contains("limits.perClient.requestsPerMinute"), answer.body());
            }

            // curl sees the same: 429 and Retry-After, the bucket being empty.
            ClientTool.Result curl = ClientTool.run(dir, Duration.ofSeconds(60), "curl", "-s", "-D", "-",
                    "-o", "/dev/null", "-x", "http://127.0.0.1:" + tollgate.port(),
                    "http://localhost:" + origin.port() + "/hello");
            int curlLimited = curl.stdout().startsWith("HTTP/1.1 429") ? 1 : 0;
            if (curlLimited == 1) {
                assertTrue(curl.stdout().toLowerCase().contains("retry-after: 1"), curl.stdout());
            }

            List<AccessRecord> rows = tollgate.awaitRows(LOAD + 1);
            assertEquals(limited.size() + curlLimited, rows.stream()
                    .filter(r -> r.outcome() == Outcome.RATE_LIMITED && r.status() == 429).count());
            assertEquals(ok, rows.stream().filter(r -> r.outcome() == Outcome.OK).count() - (1 - curlLimited));
            assertEquals(ok + 1 - curlLimited, origin.hits("/hello"), "a 429 never reaches the origin");
            // The admin API reads the same rows, filtered by the new outcome.
            com.fasterxml.jackson.databind.JsonNode page = AdminClient.asAuditor(dir, tollgate.adminPort())
                    .get("/api/v1/access-log?outcome=RATE_LIMITED&limit=1000").expect(200).json();
            assertEquals(limited.size() + curlLimited, page.get("records").size(), page::toString);
            page.get("records").forEach(r -> assertEquals(429, r.get("status").intValue(), r::toString));
        }
    }

    @Test
    void connectsOverTheTunnelCapAre429AndEveryWayATunnelEndsGivesItsPlaceBack() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, withLimits(RunningTollgate.loopbackListener(
                     echo.port(), 1), "\"perClient\": {\"maxTunnels\": 5}"))) {
            int port = tollgate.port();
            // Refused after the count was taken (connectPorts), and dials that fail (nothing listens on port 1).
            for (int i = 0; i < 5; i++) {
                try (RawTunnel denied = RawTunnel.open(port, "127.0.0.1:" + (echo.port() + 1), "");
                     RawTunnel failed = RawTunnel.open(port, "127.0.0.1:1", "")) {
                    assertEquals(403, denied.status(), denied.head());
                    assertEquals(502, failed.status(), failed.head());
                }
            }
            List<RawTunnel> answers = inParallel(20, () -> RawTunnel.open(port, "127.0.0.1:" + echo.port(), ""));
            List<RawTunnel> open = answers.stream().filter(t -> t.status() == 200).toList();
            List<RawTunnel> limited = answers.stream().filter(t -> t.status() == 429).toList();
            assertEquals(5, open.size(), "exactly the cap is open: the refused and failed ones gave their place back");
            assertEquals(15, limited.size());
            for (RawTunnel refused : limited) {
                assertTrue(refused.head().contains("Retry-After: 1"), refused.head());
                refused.close();
            }
            for (RawTunnel tunnel : open) {
                tunnel.roundTrip("still open");
            }
            open.get(0).close();
            java.util.concurrent.atomic.AtomicInteger refusedWhileClosing = new java.util.concurrent.atomic
                    .AtomicInteger();
            Poll.until("a place to be free again once a tunnel closed", () -> {
                try (RawTunnel again = RawTunnel.open(port, "127.0.0.1:" + echo.port(), "")) {
                    if (again.status() == 429) {
                        refusedWhileClosing.incrementAndGet();
                    }
                    return again.status() == 200;
                }
            });
            for (RawTunnel tunnel : open) {
                tunnel.close();
            }
            List<AccessRecord> ok = tollgate.awaitRows(6, r -> r.outcome() == Outcome.OK);
            assertEquals(6, ok.size(), ok::toString);
            List<AccessRecord> rateLimited = tollgate.rows().stream()
                    .filter(r -> r.outcome() == Outcome.RATE_LIMITED).toList();
            assertEquals(15 + refusedWhileClosing.get(), rateLimited.size(), "one row per 429");
            for (AccessRecord row : rateLimited) {
                assertEquals(429, row.status());
                assertEquals("limits.perClient.maxTunnels: client 127.0.0.1 has 5 tunnel(s) open already, its limit",
                        row.reason());
            }
        }
    }

    @Test
    void perUserAndPerHostLimitsHoldAtTheirBoundsUnderConcurrentLoad() throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(users, htpasswd("alice", "a-secret") + htpasswd("bob", "b-secret"));
        try (EchoOrigin echo = EchoOrigin.start();
             WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, withLimits(RunningTollgate.loopbackListener(
                     echo.port()), "\"perUser\": {\"requestsPerMinute\": 1, \"burst\": 10, \"maxTunnels\": 3},"
                     + " \"perHost\": {\"maxTunnels\": 4}", "\"auth\": {\"type\": \"basic\", \"usersFile\": \""
                     + users + "\"}"))) {
            int port = tollgate.port();
            String alice = "Proxy-Authorization: " + basic("alice", "a-secret") + "\r\n";
            String bob = "Proxy-Authorization: " + basic("bob", "b-secret") + "\r\n";
            long started = System.nanoTime();

            // Bob's tunnels: five at once, three open (perUser.maxTunnels).
            List<RawTunnel> bobs = inParallel(5, () -> RawTunnel.open(port, "127.0.0.1:" + echo.port(), bob));
            assertEquals(3, bobs.stream().filter(t -> t.status() == 200).count());
            assertEquals(2, bobs.stream().filter(t -> t.status() == 429).count());
            // Alice's: the host has four open then (perHost.maxTunnels), whoever opens them.
            try (RawTunnel first = RawTunnel.open(port, "127.0.0.1:" + echo.port(), alice);
                 RawTunnel second = RawTunnel.open(port, "127.0.0.1:" + echo.port(), alice)) {
                assertEquals(200, first.status(), first.head());
                assertEquals(429, second.status(), second.head());
                assertTrue(second.head().contains("Retry-After: 1"), second.head());
            }
            // Alice's requests: her bucket of ten, two of them taken by her CONNECTs, refills one a minute.
            String hello = "http://localhost:" + origin.port() + "/hello";
            List<Integer> statuses = inParallel(LOAD, () -> {
                try (RawHttpConnection connection = RawHttpConnection.open(port)) {
                    connection.send(RawHttpConnection.head("GET", hello, "localhost:" + origin.port(),
                            alice.trim()));
                    return connection.readResponse().status();
                }
            });
            long minutes = (System.nanoTime() - started) / 60_000_000_000L;
            long ok = statuses.stream().filter(s -> s == 200).count();
            assertEquals(LOAD, ok + statuses.stream().filter(s -> s == 429).count(), statuses::toString);
            assertTrue(ok >= 8 && ok <= 8 + minutes, ok + " passed");
            // Bob's bucket is his own.
            try (RawHttpConnection connection = RawHttpConnection.open(port)) {
                connection.send(RawHttpConnection.head("GET", hello, "localhost:" + origin.port(), bob.trim()));
                assertEquals(200, connection.readResponse().status());
            }
            for (RawTunnel tunnel : bobs) {
                tunnel.close();
            }

            List<AccessRecord> rows = tollgate.awaitRows(5 + 2 + LOAD + 1);
            assertEquals(2, rows.stream().filter(r -> r.outcome() == Outcome.RATE_LIMITED && r.reason()
                    .equals("limits.perUser.maxTunnels: user \"bob\" has 3 tunnel(s) open already, its limit"))
                    .count(), rows::toString);
            assertEquals(1, rows.stream().filter(r -> r.outcome() == Outcome.RATE_LIMITED && r.reason()
                    .equals("limits.perHost.maxTunnels: host 127.0.0.1 has 4 tunnel(s) open already, its limit"))
                    .count(), rows::toString);
            assertEquals(LOAD - ok, rows.stream().filter(r -> r.outcome() == Outcome.RATE_LIMITED && r.reason()
                    .equals("limits.perUser.requestsPerMinute: user \"alice\" is over 1 request(s) a minute (burst"
                            + " 10)")).count(), rows::toString);
            assertEquals(LOAD - ok + 3, rows.stream().filter(r -> r.outcome() == Outcome.RATE_LIMITED).count());
        }
    }

    @Test
    void aTunnelPastItsLifetimeIsClosedAndItsRowSaysSo() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(echo.port(),
                     "\"maxTunnelLifetimeMs\": 1500"));
             RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
            tunnel.roundTrip("inside its lifetime");
            tunnel.awaitEnd();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(200, row.status());
            assertEquals(Outcome.RATE_LIMITED, row.outcome());
            assertEquals("limits.maxTunnelLifetimeMs: the tunnel was open for 1500 ms, its limit", row.reason());
            assertTrue(row.durationMs() >= 1500, row.durationMs() + " ms");
            assertEquals("inside its lifetime".length(), row.bytesFromClient());
        }
    }

    @Test
    void anInterceptedTunnelPastItsLifetimeIsClosedAndItsRowSaysSo() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(echo.port(),
                     "\"maxTunnelLifetimeMs\": 1500", "\"intercept\": {\"enabled\": true}"));
             RawTunnel tunnel = RawTunnel.open(tollgate.port(), "localhost:" + echo.port(), "")) {
            assertEquals(200, tunnel.status(), tunnel.head());
            // The client never starts its TLS handshake: only the lifetime ends the tunnel.
            tunnel.awaitEnd();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(200, row.status());
            assertEquals(Outcome.RATE_LIMITED, row.outcome());
            assertEquals("limits.maxTunnelLifetimeMs: the tunnel was open for 1500 ms, its limit; intercepted: 0"
                    + " request(s) recorded as INTERCEPT rows", row.reason());
            assertTrue(row.durationMs() >= 1500, row.durationMs() + " ms");
        }
    }

    @Test
    void aUsersTunnelsAreHeldToItsBandwidthBothWaysTogether() throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(users, htpasswd("alice", "s3cret"));
        int rate = 256 * 1024;
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(echo.port(),
                     "\"perUser\": {\"bytesPerSecond\": " + rate + "}", "\"auth\": {\"type\": \"basic\","
                             + " \"usersFile\": \"" + users + "\"}"));
             RawTunnel tunnel = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(),
                     "Proxy-Authorization: " + basic("alice", "s3cret") + "\r\n")) {
            assertEquals(200, tunnel.status(), tunnel.head());
            byte[] payload = new byte[512 * 1024];
            new java.util.Random(7).nextBytes(payload);
            long started = System.nanoTime();
            ExecutorService reader = Executors.newSingleThreadExecutor();
            Future<byte[]> echoed = reader.submit(() -> tunnel.readExactly(payload.length));
            tunnel.write(payload);
            assertArrayEquals(payload, echoed.get());
            reader.shutdown();
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("1 MiB through a user's tunnel at %,d bytes/s took %,d ms (%,d bytes/s)%n", rate,
                    elapsedMs, 2L * payload.length * 1000 / Math.max(1, elapsedMs));
            // 1 MiB through the user's bucket (512 KiB each way), which starts with one second's worth: the rest
            // cannot pass in less than (1 MiB - 256 KiB) / 256 KiB/s = 3 s. A lower bound only: it cannot flake.
            assertTrue(elapsedMs >= 2_900, "1 MiB at 256 KiB/s took " + elapsedMs + " ms");
            tunnel.close();
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals("alice", row.username());
            assertEquals(payload.length, row.bytesFromClient());
            assertEquals(payload.length, row.bytesToClient());
        }
    }

    @Test
    void inReportModeAWouldBe429PassesAndItsRowSaysWouldDeny() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"perHost\": {\"requestsPerMinute\": 1}", "\"mode\": \"report\""))) {
            String url = "http://localhost:" + origin.port() + "/hello";
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), url).status());
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), url).status());
            List<AccessRecord> rows = tollgate.awaitRows(2);
            assertEquals(null, rows.get(0).reason());
            assertEquals(Outcome.OK, rows.get(1).outcome());
            assertEquals("WOULD_DENY: limits.perHost.requestsPerMinute: host localhost is over 1 request(s) a minute"
                    + " (burst 1)", rows.get(1).reason());
            assertEquals(1, AdminClient.asAuditor(dir, tollgate.adminPort()).get(AdminClient.STATS).expect(200)
                    .json().get("totals").get("wouldDeny").longValue());
        }
    }

    @Test
    void aFloodOfNewClientsAndHostsSharesOneBucketPastTheCap() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"perClient\": {\"requestsPerMinute\": 1}, \"perHost\": {\"requestsPerMinute\": 1},"
                             + " \"maxTrackedKeys\": 10"))) {
            int flood = 200;
            List<Integer> statuses = inParallel(flood, new Callable<>() {
                private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic
                        .AtomicInteger();

                @Override
                public Integer call() throws Exception {
                    int i = next.incrementAndGet();
                    InetAddress from = InetAddress.getByAddress(new byte[]{127, 0, (byte) (1 + i / 200),
                            (byte) (1 + i % 200)});
                    // A distinct client address and a distinct host (an address literal of this host) each time.
                    String host = "127.1." + (i / 200) + "." + (i % 200);
                    try (RawHttpConnection connection = RawHttpConnection.openFrom(from, tollgate.port())) {
                        connection.send(RawHttpConnection.head("GET", "http://" + host + ":" + origin.port()
                                + "/hello", host + ":" + origin.port()));
                        return connection.readResponse().status();
                    }
                }
            });
            long limited = statuses.stream().filter(s -> s == 429).count();
            // Ten clients and ten hosts have buckets of their own; every other one shares the overflow bucket, one
            // request a minute. Without the cap, each new client and host would have a full bucket: no 429 at all.
            assertTrue(flood - limited <= 10 + 1 + 1, (flood - limited) + " of " + flood + " passed the limits");
            List<AccessRecord> rows = tollgate.awaitRows(flood);
            assertEquals(limited, rows.stream().filter(r -> r.outcome() == Outcome.RATE_LIMITED).count());
        }
    }

    static String listener(int originPort, String limits, String... extraKeys) {
        return withLimits(RunningTollgate.loopbackListener(originPort), limits, extraKeys);
    }

    static String withLimits(String loopback, String limits, String... extraKeys) {
        StringBuilder keys = new StringBuilder(", \"limits\": {" + limits + "}");
        for (String key : extraKeys) {
            keys.append(", ").append(key);
        }
        return loopback.substring(0, loopback.length() - 1) + keys + "}";
    }

    static String htpasswd(String user, String password) {
        byte[] salt = new byte[16];
        new java.security.SecureRandom().nextBytes(salt);
        return user + ":" + OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 4) + "\n";
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Runs {@code count} calls of {@code call} at once, on as many threads; their results in order. */
    static <T> List<T> inParallel(int count, Callable<T> call) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(count);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(threads.submit(call));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get());
            }
            assertNotNull(results);
            return results;
        } finally {
            threads.shutdownNow();
        }
    }
}
