package dev.tollgate.daemon.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tollgate.daemon.config.SinkConfig;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivers sink events as OpenTelemetry logs over OTLP/HTTP: one {@code POST} of an {@code ExportLogsServiceRequest}
 * in the JSON encoding ({@link OtlpLogs}) per batch, to a collector's logs endpoint ({@code http://host:4318/v1/logs}).
 * JSON rather than binary protobuf because the daemon already ships Jackson: protobuf would add about 2 MB and a
 * second serialization stack to send what a collector accepts either way (docs/integrations.md).
 *
 * <p>Jetty's HttpClient, already the daemon's client for origins, rather than the JDK's: it has a total timeout per
 * exchange (the JDK's stops at the response head), and {@link #close} really stops it (the JDK's client has no
 * {@code close} before Java 21). https uses the JDK's trust store and checks the host name.
 *
 * <p>What the collector's answer means (opentelemetry-proto's docs/specification.md, "OTLP/HTTP Response"): 2xx is
 * delivered, even with a partial success that rejects some records, because the collector refused those for good
 * and sending them again would only be refused again: they are logged at WARN and counted in
 * {@link #rejectedLogRecords()}. 429, 502, 503 and 504 ask for a retry ({@link ReceiverBusyException}, with the
 * {@code Retry-After}). Anything else (400, 401, 404, a redirect, which is never followed since the headers may
 * carry an API key) throws too, saying what to fix: the pump retries, but only an operator can make it succeed.
 * The configured headers go out on every request and are never logged.
 */
public final class OtlpTransport implements SinkTransport {

    private static final Logger LOG = LoggerFactory.getLogger(OtlpTransport.class);

    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
    public static final long DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
    /** Longer than a collector's batches take to arrive, shorter than it keeps an idle connection (Go: no limit). */
    static final long IDLE_TIMEOUT_MS = 30_000;
    /** A Retry-After beyond this is taken as this: a collector must not park the sink for hours. */
    static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
    /** OTLP/HTTP's "retryable" statuses (opentelemetry-proto docs/specification.md, "Failures"). */
    static final Set<Integer> RETRYABLE = Set.of(429, 502, 503, 504);
    private static final int MAX_REASON_CHARS = 200;
    private static final int MAX_THREADS = 8;
    /** Headers the sink sets itself: a configured one would contradict the body or the connection. */
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "content-type", "content-length",
            "content-encoding", "transfer-encoding", "connection", "te", "upgrade", "trailer", "keep-alive");
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final URI url;
    private final String target;
    private final Map<String, String> headers;
    private final long connectTimeoutMs;
    private final long requestTimeoutMs;
    private final Clock clock;
    private final AtomicLong rejectedLogRecords = new AtomicLong();
    /** Written by the delivering thread; volatile so that a close() from the thread that stops the sink sees it. */
    private volatile HttpClient client;

    /** The transport of otlp sink {@code config}, with the default timeouts. */
    public OtlpTransport(SinkConfig config) {
        this(config.name(), config.url(), config.allHeaders(), DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS,
                Clock.systemUTC());
    }

    /**
     * @param name             the sink's name, for logs and thread names
     * @param url              the collector's logs endpoint, http or https
     * @param headers          sent on every request (an API key); neither logged nor shown
     * @param connectTimeoutMs how long a connect may take
     * @param requestTimeoutMs how long a whole exchange may take, connect included: a collector that takes a batch
     *                         and never answers makes {@link #deliver} throw after this
     * @param clock            for each record's {@code observedTimeUnixNano}
     */
    public OtlpTransport(String name, String url, Map<String, String> headers, long connectTimeoutMs,
                         long requestTimeoutMs, Clock clock) {
        this.name = name;
        this.url = endpoint(url);
        this.target = this.url.getScheme() + "://" + this.url.getHost() + ":" + port(this.url)
                + this.url.getRawPath();
        headers.forEach(OtlpTransport::checkHeader);
        this.headers = Map.copyOf(headers);
        if (connectTimeoutMs <= 0 || requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("timeouts must be positive (connect " + connectTimeoutMs
                    + " ms, request " + requestTimeoutMs + " ms)");
        }
        this.connectTimeoutMs = connectTimeoutMs;
        this.requestTimeoutMs = requestTimeoutMs;
        this.clock = clock;
    }

    @Override
    public void deliver(List<SinkEvent> events) throws IOException {
        if (events.isEmpty()) {
            return;
        }
        ContentResponse response = post(OtlpLogs.request(events, clock.instant()));
        int status = response.getStatus();
        if (status / 100 == 2) {
            readPartialSuccess(response, events.size());
            return;
        }
        String answered = target + " answered " + status + " " + HttpStatus.getMessage(status);
        if (RETRYABLE.contains(status)) {
            Duration retryAfter = retryAfter(response.getHeaders().get(HttpHeader.RETRY_AFTER), clock.instant());
            throw new ReceiverBusyException(answered + " (busy or overloaded: retried"
                    + (retryAfter == null ? " after a backoff" : " after " + retryAfter.toSeconds() + " s, as it asks")
                    + ")", retryAfter);
        }
        throw new IOException(answered + ": " + firstLine(response.getContentAsString()) + "; " + advice(response));
    }

    @Override
    public String target() {
        return target;
    }

    /** Log records the collector took but rejected for good (partial success) since this transport was made. */
    public long rejectedLogRecords() {
        return rejectedLogRecords.get();
    }

    @Override
    public void close() {
        HttpClient closing = client;
        client = null;
        if (closing != null) {
            try {
                closing.stop();
            } catch (Exception e) {
                LOG.warn("{} - stopping the HTTP client of {} failed", name, target, e);
            }
        }
    }

    private ContentResponse post(byte[] body) throws IOException {
        Request request = client().newRequest(url)
                .method(HttpMethod.POST)
                .timeout(requestTimeoutMs, TimeUnit.MILLISECONDS)
                .headers(fields -> headers.forEach(fields::put))
                .body(new BytesRequestContent("application/json", body));
        try {
            return request.send();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            request.abort(e);
            throw new InterruptedIOException(target + ": interrupted while delivering");
        } catch (TimeoutException e) {
            throw new IOException(target + ": " + failure(e), e);
        } catch (ExecutionException e) {
            throw new IOException(target + ": " + failure(e.getCause()), e.getCause());
        }
    }

    /** Made when the first batch goes out, or the first after {@link #close}. */
    private HttpClient client() throws IOException {
        if (client == null) {
            ClientConnector connector = new ClientConnector();
            SslContextFactory.Client tls = new SslContextFactory.Client();
            tls.setEndpointIdentificationAlgorithm("HTTPS");
            connector.setSslContextFactory(tls);
            HttpClient c = new HttpClient(new HttpClientTransportOverHTTP(connector));
            QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 1);
            threads.setName("tollgate-sink-" + name);
            threads.setDaemon(true);
            threads.setReservedThreads(0);
            c.setExecutor(threads);
            c.setScheduler(new ScheduledExecutorScheduler("tollgate-sink-" + name + "-timer", true));
            c.setConnectTimeout(connectTimeoutMs);
            c.setIdleTimeout(IDLE_TIMEOUT_MS);
            c.setFollowRedirects(false);
            c.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "tollgate"));
            try {
                c.start();
            } catch (Exception e) {
                throw new IOException(target + ": the HTTP client did not start: " + e, e);
            }
            client = c;
        }
        return client;
    }

    /** A 2xx answer's partial success: records rejected for good (not resent), or a warning. */
    private void readPartialSuccess(ContentResponse response, int sent) {
        JsonNode partial;
        try {
            String type = response.getMediaType();
            if (type == null || !type.toLowerCase(Locale.ROOT).endsWith("json") || response.getContent().length == 0) {
                return;
            }
            JsonNode answer = JSON.readTree(response.getContent());
            partial = answer.has("partialSuccess") ? answer.get("partialSuccess") : answer.path("partial_success");
        } catch (IOException e) {
            LOG.debug("{} - the answer of {} is not JSON; taken as delivered", name, target, e);
            return;
        }
        long rejected = (partial.has("rejectedLogRecords") ? partial.get("rejectedLogRecords")
                : partial.path("rejected_log_records")).asLong(0);
        String message = (partial.has("errorMessage") ? partial.get("errorMessage")
                : partial.path("error_message")).asText("");
        if (rejected > 0) {
            rejectedLogRecords.addAndGet(rejected);
            LOG.warn("{} - {} took {} log records but rejected {} of them for good (not sent again): {}", name,
                    target, sent, rejected, firstLine(message));
        } else if (!message.isEmpty()) {
            LOG.warn("{} - {} took {} log records with a warning: {}", name, target, sent, firstLine(message));
        }
    }

    /** What an operator should look at after a refusal. */
    private static String advice(ContentResponse response) {
        int status = response.getStatus();
        if (status / 100 == 3) {
            return "redirects are not followed (the headers may carry an API key): set the sink's url to "
                    + firstLine(String.valueOf(response.getHeaders().get(HttpHeader.LOCATION)));
        }
        return switch (status) {
            case 401, 403 -> "check the credentials in the sink's headers";
            case 404, 405 -> "check the sink's url (a collector's OTLP/HTTP logs endpoint ends in /v1/logs)";
            case 413 -> "the batch is too large for the collector: lower the sink's batchSize";
            case 415 -> "the collector does not take OTLP/JSON (application/json)";
            default -> "the collector refuses the records as sent: fix the sink's config or the collector's (its"
                    + " log says why); they are retried until then";
        };
    }

    /** One line saying why an exchange failed, naming what to check. */
    private String failure(Throwable cause) {
        String hostPort = url.getHost() + ":" + port(url);
        if (cause instanceof TimeoutException) {
            return "no answer within " + requestTimeoutMs + " ms (is the collector overloaded or hung?)";
        }
        if (cause instanceof SocketTimeoutException) {
            return "could not connect to " + hostPort + " within " + connectTimeoutMs + " ms";
        }
        if (cause instanceof ConnectException) {
            String message = String.valueOf(cause.getMessage());
            return message.toLowerCase(Locale.ROOT).contains("refused")
                    ? "connection refused by " + hostPort + " (is the collector running and listening there?)"
                    : "could not connect to " + hostPort + ": " + firstLine(message);
        }
        if (cause instanceof UnknownHostException || cause instanceof UnresolvedAddressException) {
            return "cannot resolve " + url.getHost();
        }
        if (cause instanceof SSLException) {
            return "TLS with " + hostPort + " failed: " + firstLine(String.valueOf(cause.getMessage()));
        }
        return firstLine(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    /**
     * A Retry-After (RFC 9110 10.2.3: seconds or an HTTP-date) as a wait from {@code now}, at most
     * {@link #MAX_RETRY_AFTER}; null when absent or unreadable.
     */
    static Duration retryAfter(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Duration wait;
        String v = value.trim();
        if (v.matches("\\d{1,10}")) {
            wait = Duration.ofSeconds(Long.parseLong(v));
        } else {
            try {
                wait = Duration.between(now, ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return wait.isNegative() ? Duration.ZERO : wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait;
    }

    /** The first line of what a collector said, its control characters replaced, at most 200 characters. */
    static String firstLine(String text) {
        if (text == null || text.isBlank()) {
            return "(no body)";
        }
        String line = text.strip().lines().findFirst().orElse("");
        StringBuilder out = new StringBuilder(Math.min(line.length(), MAX_REASON_CHARS + 3));
        line.codePoints().limit(MAX_REASON_CHARS).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return line.codePointCount(0, line.length()) > MAX_REASON_CHARS ? out + "..." : out.toString();
    }

    private static URI endpoint(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("url: \"" + url + "\" is not a URL: " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw new IllegalArgumentException("url: \"" + url + "\" is not an http or https URL with a host");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("url: credentials in the URL are not sent (and would be shown);"
                    + " put an Authorization header in the sink's headers");
        }
        return uri;
    }

    private static int port(URI uri) {
        return uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** A header the sink may send: a token name (RFC 9110 5.1) it does not set itself, a value of one line. */
    private static void checkHeader(String headerName, String value) {
        if (headerName == null || !headerName.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            throw new IllegalArgumentException("headers: \"" + headerName + "\" is not a header name");
        }
        if (RESERVED_HEADERS.contains(headerName.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("headers: " + headerName + " is set by the otlp sink itself");
        }
        // The value is not shown: it may be an API key.
        if (value == null || value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
            throw new IllegalArgumentException("headers: the value of " + headerName + " is missing or has a"
                    + " control character (a line break?)");
        }
    }
}
