package dev.tollgate.daemon.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The daemon's admin API on 127.0.0.1, with the admin token from its state directory. */
final class AdminClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final Path stateDir;
    private final HttpClient http = HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private String token;

    AdminClient(int adminPort, Path stateDir) {
        this.base = "http://127.0.0.1:" + adminPort;
        this.stateDir = stateDir;
    }

    /** {@code GET /api/v1/health}: status, store and reason. */
    JsonNode health() throws IOException, InterruptedException {
        return JSON.readTree(get("/api/v1/health", false));
    }

    /** {@code GET /api/v1/stats}. */
    JsonNode stats() throws IOException, InterruptedException {
        return JSON.readTree(get("/api/v1/stats", true));
    }

    /** {@code GET /metrics}: the Prometheus text. */
    String metrics() throws IOException, InterruptedException {
        return get("/metrics", true);
    }

    /** The value of an unlabelled sample in the Prometheus text, or fails when it is not there. */
    static double sample(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
                .matcher(metrics);
        if (!m.find()) {
            fail("no sample " + name + " in:\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }

    /** Polls health until {@code until} holds; returns that health, or fails at the deadline with the last one. */
    JsonNode awaitHealth(Predicate<JsonNode> until, Duration within, String what) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode last;
        do {
            last = health();
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("health not " + what + " within " + within + "; last: " + last);
    }

    /** Polls stats until {@code until} holds; returns them, or fails at the deadline with the last ones. */
    JsonNode awaitStats(Predicate<JsonNode> until, Duration within, String what) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode last;
        do {
            last = stats();
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("stats not showing " + what + " within " + within + "; last: " + last);
    }

    private String get(String path, boolean authorized) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (authorized) {
            request.header("Authorization", "Bearer " + token());
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return response.body();
    }

    private synchronized String token() throws IOException {
        if (token == null) {
            token = Files.readString(stateDir.resolve("admin.token")).trim();
        }
        return token;
    }
}
