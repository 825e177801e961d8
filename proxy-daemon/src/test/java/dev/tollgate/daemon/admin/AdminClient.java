package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Calls the admin API of a running daemon over a real socket to 127.0.0.1:{@code adminPort} with the JDK
 * HttpClient, with or without a bearer token, and returns what came back: status, headers and body (parsed as
 * JSON on demand). The JDK client will not send a chosen {@code Host} header; {@link RawHttp} does.
 */
final class AdminClient {

    static final ObjectMapper JSON = new ObjectMapper();
    /** A safety net so that a hung call fails the test instead of hanging the build; not a timing check. */
    private static final Duration LIMIT = Duration.ofSeconds(30);

    // Java 17's HttpClient has no close(); its idle connections end when the daemon's admin server stops.
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(LIMIT)
            .build();
    private final String base;

    AdminClient(int adminPort) {
        this.base = "http://127.0.0.1:" + adminPort;
    }

    /** The token in {@code file} ({@code admin.token} or {@code auditor.token}) of the state directory. */
    static String token(Path stateDir, String file) throws IOException {
        return Files.readString(stateDir.resolve(file), StandardCharsets.US_ASCII).trim();
    }

    Reply get(String path, String token) throws Exception {
        return send("GET", path, token, Map.of(), HttpRequest.BodyPublishers.noBody());
    }

    /** POST without a body (start, stop). */
    Reply post(String path, String token) throws Exception {
        return send("POST", path, token, Map.of(), HttpRequest.BodyPublishers.noBody());
    }

    /** POST with a JSON body, sent as {@code application/json}. */
    Reply postJson(String path, String token, String json) throws Exception {
        return send("POST", path, token, Map.of("Content-Type", "application/json"),
                HttpRequest.BodyPublishers.ofString(json));
    }

    Reply delete(String path, String token) throws Exception {
        return send("DELETE", path, token, Map.of(), HttpRequest.BodyPublishers.noBody());
    }

    /** Any method, extra headers and body; {@code token} null sends no Authorization header. */
    Reply send(String method, String path, String token, Map<String, String> headers,
               HttpRequest.BodyPublisher body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(LIMIT)
                .method(method, body);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        headers.forEach(request::header);
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        Map<String, List<String>> lowerCase = new LinkedHashMap<>();
        response.headers().map().forEach((name, values) -> lowerCase.put(name.toLowerCase(Locale.ROOT), values));
        return new Reply(response.statusCode(), lowerCase, response.body());
    }

    /**
     * One answer as received.
     *
     * @param headers field names in lower case
     */
    record Reply(int status, Map<String, List<String>> headers, byte[] body) {

        /** The first value of header {@code name} (any case), or null. */
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body parsed as JSON; fails the test with the body in the message when it is not JSON. */
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (status " + status + "): " + text(), e);
            }
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + text();
        }
    }
}
