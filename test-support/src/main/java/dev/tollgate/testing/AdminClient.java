package dev.tollgate.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
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
 * Calls a running daemon's admin API on 127.0.0.1 as one caller: the admin token, the auditor token (both read
 * from the state directory, where the daemon made them), a token of the test's choosing, or none. The JDK
 * HttpClient carries the ordinary calls; {@link #sendRaw} writes a request exactly as an abuse test gives it (a
 * chosen {@code Host}, a path no client library would leave alone) over a plain socket.
 */
public final class AdminClient {

    public static final ObjectMapper JSON = new ObjectMapper();
    public static final String ADMIN_TOKEN_FILE = "admin.token";
    public static final String AUDITOR_TOKEN_FILE = "auditor.token";
    public static final String HEALTH = "/api/v1/health";
    public static final String STATS = "/api/v1/stats";
    /** A safety net so that a hung call fails the test instead of hanging the build; not a timing check. */
    private static final Duration CALL_LIMIT = Duration.ofSeconds(60);
    // One client for every test: the JDK's HttpClient cannot be closed on Java 17.
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(30))
            .build();

    private final int port;
    private final String token;

    private AdminClient(int port, String token) {
        this.port = port;
        this.token = token;
    }

    /** Calls with {@code admin.token} from {@code stateDir}. */
    public static AdminClient asAdmin(Path stateDir, int adminPort) throws IOException {
        return new AdminClient(adminPort, token(stateDir, ADMIN_TOKEN_FILE));
    }

    /** Calls with {@code auditor.token} from {@code stateDir}. */
    public static AdminClient asAuditor(Path stateDir, int adminPort) throws IOException {
        return new AdminClient(adminPort, token(stateDir, AUDITOR_TOKEN_FILE));
    }

    /** Calls without an Authorization header. */
    public static AdminClient withoutToken(int adminPort) {
        return new AdminClient(adminPort, null);
    }

    /** Calls with a bearer token of the caller's choosing; null sends no Authorization header. */
    public static AdminClient withToken(int adminPort, String token) {
        return new AdminClient(adminPort, token);
    }

    /** The token in {@code file} ({@code admin.token} or {@code auditor.token}) of the state directory. */
    public static String token(Path stateDir, String file) throws IOException {
        return Files.readString(stateDir.resolve(file), StandardCharsets.US_ASCII).trim();
    }

    /** The bearer token this client sends, or null. */
    public String token() {
        return token;
    }

    public Reply get(String pathAndQuery) throws IOException, InterruptedException {
        return send(request(pathAndQuery).GET());
    }

    public Reply get(String pathAndQuery, String accept) throws IOException, InterruptedException {
        return send(request(pathAndQuery).header("Accept", accept).GET());
    }

    /** POST without a body (start, stop). */
    public Reply post(String pathAndQuery) throws IOException, InterruptedException {
        return send(request(pathAndQuery).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** POST with a JSON body, sent as {@code application/json}; with none when {@code json} is null. */
    public Reply post(String pathAndQuery, String json) throws IOException, InterruptedException {
        if (json == null) {
            return post(pathAndQuery);
        }
        return send(request(pathAndQuery).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)));
    }

    public Reply delete(String pathAndQuery) throws IOException, InterruptedException {
        return send(request(pathAndQuery).DELETE());
    }

    /** Any method, extra headers and body. */
    public Reply send(String method, String pathAndQuery, Map<String, String> headers,
                      HttpRequest.BodyPublisher body) throws IOException, InterruptedException {
        HttpRequest.Builder request = request(pathAndQuery).method(method, body);
        headers.forEach(request::header);
        return send(request);
    }

    /** GET that must answer 200; its body as JSON. */
    public JsonNode getJson(String pathAndQuery) throws IOException, InterruptedException {
        return get(pathAndQuery).expect(200).json();
    }

    /** GET whose body the caller reads as it arrives (and must close), for answers too big to hold. */
    public HttpResponse<InputStream> stream(String pathAndQuery, String accept)
            throws IOException, InterruptedException {
        return stream(pathAndQuery, accept, Map.of());
    }

    /** As {@link #stream(String, String)}, with extra request headers (Last-Event-ID for a live tail). */
    public HttpResponse<InputStream> stream(String pathAndQuery, String accept, Map<String, String> headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = request(pathAndQuery).header("Accept", accept).GET();
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /**
     * Writes {@code request} as it stands (see {@link RawHttpConnection#head}) to this client's port on a
     * connection of its own and returns the answer; this client's token is not added.
     */
    public Reply sendRaw(String request) throws IOException {
        RawHttpConnection.Response response = RawHttpConnection.exchange(port, request);
        return new Reply(request.split("\r\n", 2)[0], response.status(), response.headers(), response.body());
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
        HttpResponse<byte[]> response = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
        Map<String, List<String>> lowerCase = new LinkedHashMap<>();
        response.headers().map().forEach((name, values) -> lowerCase.put(name.toLowerCase(Locale.ROOT), values));
        String query = request.uri().getRawQuery();
        return new Reply(request.method() + " " + request.uri().getRawPath() + (query == null ? "" : "?" + query),
                response.statusCode(), lowerCase, response.body());
    }

    /**
     * One answer as received.
     *
     * @param call    what was asked, for assertion messages
     * @param headers field names in lower case
     */
    public record Reply(String call, int status, Map<String, List<String>> headers, byte[] body) {

        /** The first value of header {@code name} (any case), or null. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body parsed as JSON; fails the test with the body in the message when it is not JSON. */
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(call + " -> " + status + ": the body is not JSON: " + text(), e);
            }
        }

        /** Fails unless the status is {@code expected}; returns this reply for chaining. */
        public Reply expect(int expected) {
            if (status != expected) {
                throw new AssertionError(call + ": expected " + expected + ", got " + status + " " + text());
            }
            return this;
        }

        @Override
        public String toString() {
            return call + " -> " + status + " " + headers + " " + text();
        }
    }
}
