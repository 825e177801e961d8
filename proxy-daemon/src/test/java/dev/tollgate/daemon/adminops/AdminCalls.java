package dev.tollgate.daemon.adminops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Calls to a running daemon's admin API over real HTTP on 127.0.0.1, as one caller: the admin token, the
 * auditor token (both read from the state directory, where the daemon made them) or no token at all.
 */
final class AdminCalls {

    static final ObjectMapper JSON = new ObjectMapper();
    /** A safety net against a hung call, not a timing check. */
    private static final Duration CALL_LIMIT = Duration.ofSeconds(60);
    // One client for every test: the JDK's HttpClient cannot be closed on Java 17.
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    private final int port;
    private final String token;

    private AdminCalls(int port, String token) {
        this.port = port;
        this.token = token;
    }

    /** Calls with {@code admin.token} from {@code stateDir}. */
    static AdminCalls asAdmin(Path stateDir, int adminPort) throws IOException {
        return new AdminCalls(adminPort, Files.readString(stateDir.resolve("admin.token")).trim());
    }

    /** Calls with {@code auditor.token} from {@code stateDir}. */
    static AdminCalls asAuditor(Path stateDir, int adminPort) throws IOException {
        return new AdminCalls(adminPort, Files.readString(stateDir.resolve("auditor.token")).trim());
    }

    /** Calls without an Authorization header. */
    static AdminCalls withoutToken(int adminPort) {
        return new AdminCalls(adminPort, null);
    }

    /** Calls with a bearer token of the caller's choosing. */
    static AdminCalls withToken(int adminPort, String token) {
        return new AdminCalls(adminPort, token);
    }

    Reply get(String pathAndQuery) throws IOException, InterruptedException {
        return send(request(pathAndQuery).GET());
    }

    Reply get(String pathAndQuery, String accept) throws IOException, InterruptedException {
        return send(request(pathAndQuery).header("Accept", accept).GET());
    }

    /** POST with a JSON body, or with none when {@code json} is null. */
    Reply post(String pathAndQuery, String json) throws IOException, InterruptedException {
        HttpRequest.Builder builder = request(pathAndQuery);
        if (json == null) {
            builder.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            builder.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        }
        return send(builder);
    }

    Reply delete(String pathAndQuery) throws IOException, InterruptedException {
        return send(request(pathAndQuery).DELETE());
    }

    /** GET whose body the caller reads as it arrives (and must close), for answers too big to hold. */
    HttpResponse<InputStream> stream(String pathAndQuery, String accept) throws IOException, InterruptedException {
        return HTTP.send(request(pathAndQuery).header("Accept", accept).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(CALL_LIMIT);
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private static Reply send(HttpRequest.Builder builder) throws IOException, InterruptedException {
        HttpRequest request = builder.build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Reply(request.method() + " " + request.uri().getRawPath()
                + (request.uri().getRawQuery() == null ? "" : "?" + request.uri().getRawQuery()),
                response.statusCode(), response.headers(), response.body());
    }

    /**
     * One answer.
     *
     * @param call what was asked, for assertion messages
     */
    record Reply(String call, int status, HttpHeaders headers, String body) {

        /** The body as JSON; fails the test when it is not JSON. */
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(call + " -> " + status + ": the body is not JSON: " + body, e);
            }
        }

        /** The first value of header {@code name}, or null. */
        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** Fails unless the status is {@code expected}; returns this reply for chaining. */
        Reply expect(int expected) {
            if (status != expected) {
                throw new AssertionError(call + ": expected " + expected + ", got " + status + " " + body);
            }
            return this;
        }

        @Override
        public String toString() {
            return call + " -> " + status + " " + body;
        }
    }
}
