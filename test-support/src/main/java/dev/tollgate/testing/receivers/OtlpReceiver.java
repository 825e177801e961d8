package dev.tollgate.testing.receivers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.logs.v1.LogRecord;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An OTLP/HTTP logs receiver on 127.0.0.1 and a kernel-chosen port, standing in for an OpenTelemetry Collector's
 * {@code otlp} receiver (none can be installed here: the Collector is not packaged in Debian, Maven Central or
 * npm). It serves {@code POST /v1/logs} with {@code Content-Type: application/json} and decodes the body as the
 * Collector does, with the official generated classes ({@code opentelemetry-proto}) and protobuf's JSON parser,
 * so a body that is not valid proto3 JSON for an {@code ExportLogsServiceRequest} is answered 400 and counted in
 * {@link #decodeFailures()}. The parser is stricter than a collector in one way only: it refuses unknown fields,
 * which OTLP/JSON receivers must ignore; for a test of what Tollgate sends that is a feature. It is more lenient
 * than OTLP in two: it accepts enum names and snake_case keys, so tests check those rules on {@link Received#json()}.
 *
 * <p>By default each request is answered 200 with {@code {}}. {@link #answer}, {@link #stall} and
 * {@link #rejectSome} change that for the requests that follow; {@link #stop} takes the port down.
 */
public final class OtlpReceiver implements AutoCloseable {

    public static final String PATH = "/v1/logs";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A request the receiver took (answered 2xx): its headers, its body as sent and as decoded. */
    public record Received(HttpFields headers, String json, ExportLogsServiceRequest request) {
    }

    private final Server server = new Server();
    private final ServerConnector connector;
    private final int port;
    private final Object lock = new Object();
    private final List<Received> received = new ArrayList<>();
    private final List<String> decodeFailures = new ArrayList<>();
    private final List<Callback> stalled = new ArrayList<>();
    private int arrived;
    private int status = 200;
    private String body = "{}";
    private String retryAfter;
    private boolean stall;

    private OtlpReceiver() throws Exception {
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        // A stalled exchange is idle on purpose; the client's timeout or the test's end ends it.
        connector.setIdleTimeout(Duration.ofMinutes(5).toMillis());
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                receive(request, response, callback);
                return true;
            }
        });
        server.start();
        port = connector.getLocalPort();
    }

    /** A receiver listening, answering 200 {@code {}}. */
    public static OtlpReceiver start() throws Exception {
        return new OtlpReceiver();
    }

    /** The logs endpoint, {@code http://127.0.0.1:PORT/v1/logs}: still this port after {@link #stop}. */
    public String url() {
        return "http://127.0.0.1:" + port() + PATH;
    }

    /** The port it listens on, or listened on before {@link #stop}. */
    public int port() {
        return port;
    }

    /**
     * Answers the requests from now on with {@code status} and {@code body} (JSON), and a {@code Retry-After} when
     * it is not null. A status other than 2xx keeps nothing, as a collector that refuses a request keeps nothing.
     */
    public void answer(int status, String body, String retryAfter) {
        synchronized (lock) {
            this.status = status;
            this.body = body;
            this.retryAfter = retryAfter;
            this.stall = false;
        }
    }

    /** Answers 200 {@code {}} from now on: the default. */
    public void answerOk() {
        answer(200, "{}", null);
    }

    /**
     * Answers 200 with a partial success from now on ({@code rejectedLogRecords} and {@code errorMessage}, encoded by
     * the official classes), as a collector does that took the request but refused some of its records for good.
     */
    public void rejectSome(long rejectedLogRecords, String errorMessage) throws InvalidProtocolBufferException {
        ExportLogsServiceResponse response = ExportLogsServiceResponse.newBuilder()
                .setPartialSuccess(ExportLogsPartialSuccess.newBuilder()
                        .setRejectedLogRecords(rejectedLogRecords)
                        .setErrorMessage(errorMessage))
                .build();
        answer(200, JsonFormat.printer().print(response), null);
    }

    /** Reads each request from now on and never answers it (until {@link #close}): a collector that hangs. */
    public void stall() {
        synchronized (lock) {
            stall = true;
        }
    }

    /** Takes the port down: connects to {@link #url()} are refused from now on (unless another process takes it). */
    public void stop() throws Exception {
        server.stop();
    }

    /** Listens again on the port it had before {@link #stop}: the collector back after an outage. */
    public void restart() throws Exception {
        connector.setPort(port);
        server.start();
    }

    /** Requests that have arrived, whatever they were answered (stalled ones included). */
    public int arrived() {
        synchronized (lock) {
            return arrived;
        }
    }

    /** The requests taken, in the order they arrived. */
    public List<Received> received() {
        synchronized (lock) {
            return List.copyOf(received);
        }
    }

    /** Every log record taken, request after request, in order. */
    public List<LogRecord> logRecords() {
        List<LogRecord> records = new ArrayList<>();
        for (Received r : received()) {
            r.request().getResourceLogsList().forEach(resource -> resource.getScopeLogsList()
                    .forEach(scope -> records.addAll(scope.getLogRecordsList())));
        }
        return records;
    }

    /** The parser's message for each body that did not decode (answered 400). A test expects none. */
    public List<String> decodeFailures() {
        synchronized (lock) {
            return List.copyOf(decodeFailures);
        }
    }

    @Override
    public void close() throws Exception {
        List<Callback> toFail;
        synchronized (lock) {
            toFail = new ArrayList<>(stalled);
            stalled.clear();
        }
        toFail.forEach(callback -> callback.failed(new IOException("the receiver closed")));
        server.stop();
    }

    private void receive(Request request, Response response, Callback callback) throws Exception {
        if (!PATH.equals(Request.getPathInContext(request))) {
            send(response, callback, 404, "{\"code\":5,\"message\":\"not found\"}", null);
            return;
        }
        if (!HttpMethod.POST.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            send(response, callback, 405, "{\"code\":12,\"message\":\"POST only\"}", null);
            return;
        }
        String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            send(response, callback, 415, "{\"code\":3,\"message\":\"Content-Type " + contentType
                    + " is not application/json\"}", null);
            return;
        }
        ByteBuffer bytes = Content.Source.asByteBuffer(request);
        int answerStatus;
        String answerBody;
        String answerRetryAfter;
        synchronized (lock) {
            arrived++;
            if (stall) {
                stalled.add(callback);
                return;
            }
            answerStatus = status;
            answerBody = body;
            answerRetryAfter = retryAfter;
        }
        String json;
        ExportLogsServiceRequest.Builder decoded = ExportLogsServiceRequest.newBuilder();
        try {
            // JSON is UTF-8 (RFC 8259 8.1): a byte that is not is the sender's mistake, not a character to guess.
            json = StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
            JsonFormat.parser().merge(json, decoded);
        } catch (CharacterCodingException | InvalidProtocolBufferException e) {
            synchronized (lock) {
                decodeFailures.add(e.toString());
            }
            send(response, callback, 400, "{\"code\":3,\"message\":" + quote(e.toString()) + "}", null);
            return;
        }
        if (answerStatus / 100 == 2) {
            synchronized (lock) {
                received.add(new Received(HttpFields.build(request.getHeaders()).asImmutable(), json,
                        decoded.build()));
            }
        }
        send(response, callback, answerStatus, answerBody, answerRetryAfter);
    }

    private static void send(Response response, Callback callback, int status, String body, String retryAfter) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        if (retryAfter != null) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, retryAfter);
        }
        Content.Sink.write(response, true, body, callback);
    }

    private static String quote(String s) throws JsonProcessingException {
        return JSON.writeValueAsString(s);
    }
}
