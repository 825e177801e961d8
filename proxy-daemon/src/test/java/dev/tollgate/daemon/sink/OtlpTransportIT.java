package dev.tollgate.daemon.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.AdminEvent;
import dev.tollgate.store.AdminEventLog;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.receivers.OtlpReceiver;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OTLP sink's transport against a loopback receiver that decodes what it sends with the official
 * opentelemetry-proto classes, as an OpenTelemetry Collector does: what arrives, field by field, and what each
 * failure of the collector makes {@code deliver} say.
 */
class OtlpTransportIT {

    private static final long TS_MS = 1_796_000_000_123L;
    private static final Instant OBSERVED = Instant.parse("2026-12-06T15:00:00.456789012Z");
    private static final String CHAIN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private static final String API_KEY = "Bearer s3cret-key";

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    @Test
    void aBatchArrivesWithEveryFieldAsAttributesAndTheResourceThatSentIt() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS);
        SinkEvent ok = SinkEvent.access(41, CHAIN, record("node-a", "/get?q=1", Outcome.OK, null));
        SinkEvent denied = SinkEvent.access(42, CHAIN, record("node-a", "/admin", Outcome.DENIED, "host denied"));
        // Stored before the trail was chained (V9): no chain value, so no tollgate.chain attribute.
        SinkEvent admin = SinkEvent.admin(new AdminEventLog.Chained(7, null, new AdminEvent(7L,
                Instant.ofEpochMilli(TS_MS), "node-a", "admin", "127.0.0.1", "listener.stop", "main", "OK", 200,
                "stopped")));

        transport.deliver(List.of(ok, denied, admin));

        assertEquals(List.of(), receiver.decodeFailures());
        assertEquals(1, receiver.received().size());
        OtlpReceiver.Received received = receiver.received().get(0);
        assertEquals("application/json", received.headers().get("Content-Type"));
        assertEquals(API_KEY, received.headers().get("Authorization"));
        assertEquals(1, received.request().getResourceLogsCount());
        ResourceLogs resource = received.request().getResourceLogs(0);
        assertEquals(Map.of("service.name", "tollgate", "host.name", "node-a", "service.instance.id", "node-a"),
                strings(resource.getResource().getAttributesList()));
        assertEquals(1, resource.getScopeLogsCount());
        assertEquals("dev.tollgate.access", resource.getScopeLogs(0).getScope().getName());
        List<LogRecord> records = resource.getScopeLogs(0).getLogRecordsList();
        assertEquals(3, records.size());

        LogRecord first = records.get(0);
        assertEquals(TS_MS * 1_000_000L, first.getTimeUnixNano(), "timeUnixNano, to the millisecond");
        assertEquals(OBSERVED.getEpochSecond() * 1_000_000_000L + OBSERVED.getNano(), first.getObservedTimeUnixNano());
        assertEquals(9, first.getSeverityNumberValue());
        assertEquals("INFO", first.getSeverityText());
        assertEquals(ok.json(), first.getBody().getStringValue());
        Map<String, AnyValue> expected = new LinkedHashMap<>();
        expected.put("tollgate.type", string("access"));
        expected.put("tollgate.node", string("node-a"));
        expected.put("tollgate.seq", integer(41));
        expected.put("tollgate.chain", string(CHAIN));
        expected.put("tollgate.duration_ms", integer(12));
        expected.put("tollgate.listener", string("main"));
        expected.put("client.address", string("10.0.0.7"));
        expected.put("client.port", integer(50123));
        expected.put("user.name", string("alice"));
        expected.put("tollgate.kind", string("INTERCEPT"));
        expected.put("tollgate.protocol", string("HTTP/1.1"));
        expected.put("http.request.method", string("GET"));
        expected.put("server.address", string("example.org"));
        expected.put("server.port", integer(443));
        expected.put("url.path", string("/get"));
        expected.put("url.query", string("q=1"));
        expected.put("http.response.status_code", integer(200));
        expected.put("tollgate.bytes_from_client", integer(100));
        expected.put("tollgate.bytes_to_client", integer(5_000_000_000L));
        expected.put("tollgate.upstream_addr", string("93.184.215.14"));
        expected.put("tls.client.server_name", string("example.org"));
        expected.put("tollgate.outcome", string("OK"));
        expected.put("tollgate.alpn", string("h2,http/1.1"));
        expected.put("tollgate.tls_version", string("TLSv1.3"));
        expected.put("tollgate.ja4", string("t13d1516h2_8daaf6152771_b186095e22b6"));
        assertEquals(expected, attributes(first), "every non-null field, in order (reason is null)");

        LogRecord refused = records.get(1);
        assertEquals(13, refused.getSeverityNumberValue());
        assertEquals("WARN", refused.getSeverityText());
        assertEquals(string("host denied"), attributes(refused).get("tollgate.reason"));
        assertEquals(string("/admin"), attributes(refused).get("url.path"));
        assertFalse(attributes(refused).containsKey("url.query"));

        LogRecord adminRecord = records.get(2);
        assertEquals(13, adminRecord.getSeverityNumberValue());
        assertEquals(admin.json(), adminRecord.getBody().getStringValue());
        Map<String, AnyValue> adminExpected = new LinkedHashMap<>();
        adminExpected.put("tollgate.type", string("admin"));
        adminExpected.put("tollgate.node", string("node-a"));
        adminExpected.put("tollgate.seq", integer(7));
        adminExpected.put("tollgate.role", string("admin"));
        adminExpected.put("client.address", string("127.0.0.1"));
        adminExpected.put("tollgate.action", string("listener.stop"));
        adminExpected.put("tollgate.listener", string("main"));
        adminExpected.put("tollgate.result", string("OK"));
        adminExpected.put("http.response.status_code", integer(200));
        adminExpected.put("tollgate.detail", string("stopped"));
        assertEquals(adminExpected, attributes(adminRecord), "no chain for an admin event stored without one");
    }

    /**
     * What protobuf's parser lets through but OTLP/JSON forbids (opentelemetry-proto docs/specification.md, "JSON
     * Protobuf Encoding"): snake_case keys, enum names, 64-bit integers as JSON numbers.
     */
    @Test
    void theBodyKeepsTheOtlpJsonRulesTheProtobufParserDoesNotCheck() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS)
                .deliver(List.of(SinkEvent.access(1, CHAIN, record("node-a", "/x", Outcome.OK, null))));

        JsonNode body = new ObjectMapper().readTree(receiver.received().get(0).json());
        List<String> keys = new ArrayList<>();
        collectKeys(body, keys);
        assertTrue(keys.stream().allMatch(k -> k.matches("[a-z][A-Za-z]*")), "lowerCamelCase keys only: " + keys);
        JsonNode record = body.at("/resourceLogs/0/scopeLogs/0/logRecords/0");
        assertTrue(record.get("timeUnixNano").isTextual(), "fixed64 as a decimal string");
        assertTrue(record.get("observedTimeUnixNano").isTextual(), "fixed64 as a decimal string");
        assertTrue(record.get("severityNumber").isInt(), "an enum as its integer");
        for (JsonNode attribute : record.get("attributes")) {
            JsonNode intValue = attribute.at("/value/intValue");
            assertTrue(intValue.isMissingNode() || intValue.isTextual(), "int64 as a decimal string: " + attribute);
        }
    }

    @Test
    void specialCharactersAndNonAsciiSurviveTheJourney() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        String path = "/ü/日本/\"quoted\"/back\\slash/\ttab/\u0000nul/𝄞?q=☃&r=<&>'";
        String reason = "line one\nline two \u2028 \u001b[31m";
        SinkEvent event = SinkEvent.access(5, CHAIN, record("nœud-ß", path, Outcome.DENIED, reason));

        transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS).deliver(List.of(event));

        assertEquals(List.of(), receiver.decodeFailures());
        LogRecord record = receiver.logRecords().get(0);
        assertEquals(event.json(), record.getBody().getStringValue());
        Map<String, AnyValue> attributes = attributes(record);
        assertEquals(string("/ü/日本/\"quoted\"/back\\slash/\ttab/\u0000nul/𝄞"), attributes.get("url.path"));
        assertEquals(string("q=☃&r=<&>'"), attributes.get("url.query"));
        assertEquals(string(reason), attributes.get("tollgate.reason"));
        assertEquals(string("nœud-ß"), attributes.get("tollgate.node"));
        assertEquals("nœud-ß", strings(receiver.received().get(0).request().getResourceLogs(0).getResource()
                .getAttributesList()).get("host.name"));
    }

    @Test
    void aBatchFromSeveralNodesGoesAsOneResourceLogsPerNodeInTheirOrder() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        List<SinkEvent> batch = List.of(
                SinkEvent.access(1, CHAIN, record("node-a", "/1", Outcome.OK, null)),
                SinkEvent.access(1, CHAIN, record("node-b", "/2", Outcome.OK, null)),
                SinkEvent.access(2, CHAIN, record("node-a", "/3", Outcome.OK, null)));

        transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS).deliver(batch);

        List<ResourceLogs> resources = receiver.received().get(0).request().getResourceLogsList();
        assertEquals(2, resources.size());
        assertEquals("node-a", strings(resources.get(0).getResource().getAttributesList()).get("host.name"));
        assertEquals(List.of(string("/1"), string("/3")), resources.get(0).getScopeLogs(0).getLogRecordsList()
                .stream().map(r -> attributes(r).get("url.path")).toList());
        assertEquals("node-b", strings(resources.get(1).getResource().getAttributesList()).get("host.name"));
        assertEquals(List.of(string("/2")), resources.get(1).getScopeLogs(0).getLogRecordsList()
                .stream().map(r -> attributes(r).get("url.path")).toList());
    }

    @Test
    void aCollectorAnswering503MakesDeliverThrowAndTheSameBatchGoesThroughOnceItIsBack() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS);
        List<SinkEvent> batch = List.of(SinkEvent.access(1, CHAIN, record("node-a", "/x", Outcome.OK, null)));
        receiver.answer(503, "{\"code\":14,\"message\":\"memory limiter\"}", "7");

        IOException busy = assertThrows(IOException.class, () -> transport.deliver(batch));

        assertInstanceOf(ReceiverBusyException.class, busy);
        assertEquals(Duration.ofSeconds(7), ((ReceiverBusyException) busy).retryAfter());
        assertTrue(busy.getMessage().contains("answered 503 Service Unavailable"), busy.getMessage());
        assertEquals(List.of(), receiver.received());

        receiver.answerOk();
        transport.deliver(batch);

        assertEquals(1, receiver.logRecords().size());
    }

    @Test
    void aCollectorThatTakesTheRequestAndNeverAnswersMakesDeliverThrowAfterTheRequestTimeout() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, 500);
        receiver.stall();

        CompletableFuture<Void> delivery = CompletableFuture.runAsync(() -> {
            try {
                transport.deliver(List.of(SinkEvent.access(1, CHAIN, record("node-a", "/x", Outcome.OK, null))));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });

        // A deadline for a hang, not a measure of speed: without the request timeout this never ends.
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> delivery.get(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(1, receiver.arrived(), "the request reached the collector");
        assertEquals(transport.target() + ": no answer within 500 ms (is the collector overloaded or hung?)",
                failed.getCause().getCause().getMessage());
    }

    @Test
    void aCollectorThatIsDownIsAConnectionRefusedNamingItsAddress() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS);
        receiver.stop();

        IOException refused = assertThrows(IOException.class, () -> transport.deliver(
                List.of(SinkEvent.access(1, CHAIN, record("node-a", "/x", Outcome.OK, null)))));

        assertEquals(transport.target() + ": connection refused by 127.0.0.1:" + receiver.port()
                + " (is the collector running and listening there?)", refused.getMessage());
    }

    @Test
    void aCollectorRefusingTheDataWith400SaysTheStatusAndTheFirstLineOfItsAnswerButNoSecret() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS);
        receiver.answer(400, "{\"code\":3,\"message\":\"unknown field\"}\n{\"second\":\"line\"}", null);

        IOException refused = assertThrows(IOException.class, () -> transport.deliver(
                List.of(SinkEvent.access(1, CHAIN, record("node-a", "/x", Outcome.OK, null)))));

        assertFalse(refused instanceof ReceiverBusyException, "a 400 is not a busy collector");
        assertTrue(refused.getMessage().startsWith(transport.target() + " answered 400 Bad Request:"
                + " {\"code\":3,\"message\":\"unknown field\"}; "), refused.getMessage());
        assertFalse(refused.getMessage().contains("second"), refused.getMessage());
        assertFalse(refused.getMessage().contains("s3cret"), refused.getMessage());
        assertEquals(1, refused.getMessage().lines().count());
    }

    @Test
    void aPartialSuccessIsDeliveredAndItsRejectedRecordsAreCountedNotResent() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS);
        receiver.rejectSome(2, "2 records too old");

        transport.deliver(List.of(SinkEvent.access(1, CHAIN, record("node-a", "/1", Outcome.OK, null)),
                SinkEvent.access(2, CHAIN, record("node-a", "/2", Outcome.OK, null)),
                SinkEvent.access(3, CHAIN, record("node-a", "/3", Outcome.OK, null))));

        assertEquals(2, transport.rejectedLogRecords());
        assertEquals(1, receiver.received().size());
    }

    @Test
    void closeEndsTheClientAndTheNextDeliveryConnectsAgain() throws Exception {
        OtlpReceiver receiver = closed.add(OtlpReceiver.start());
        OtlpTransport transport = transport(receiver, OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS);
        List<SinkEvent> batch = List.of(SinkEvent.access(1, CHAIN, record("node-a", "/x", Outcome.OK, null)));

        transport.deliver(batch);
        transport.close();
        transport.close();
        transport.deliver(batch);

        assertEquals(2, receiver.received().size());
    }

    private OtlpTransport transport(OtlpReceiver receiver, long requestTimeoutMs) {
        return closed.add(new OtlpTransport("siem", receiver.url(), Map.of("Authorization", API_KEY),
                OtlpTransport.DEFAULT_CONNECT_TIMEOUT_MS, requestTimeoutMs, Clock.fixed(OBSERVED, ZoneOffset.UTC)));
    }

    /** A record with every column set but the reason (set for anything but OK). */
    private static AccessRecord record(String node, String path, Outcome outcome, String reason) {
        return new AccessRecord(99L, TS_MS, 12, node, "main", "10.0.0.7", 50123, "alice", Kind.INTERCEPT,
                "HTTP/1.1", "GET", "example.org", 443, path, outcome == Outcome.OK ? 200 : 403, 100,
                5_000_000_000L, "93.184.215.14", "example.org", outcome, reason, "h2,http/1.1", "TLSv1.3",
                "t13d1516h2_8daaf6152771_b186095e22b6");
    }

    private static Map<String, AnyValue> attributes(LogRecord record) {
        Map<String, AnyValue> map = new LinkedHashMap<>();
        for (KeyValue kv : record.getAttributesList()) {
            assertEquals(null, map.put(kv.getKey(), kv.getValue()), "attribute " + kv.getKey() + " twice");
        }
        return map;
    }

    private static Map<String, String> strings(List<KeyValue> attributes) {
        Map<String, String> map = new LinkedHashMap<>();
        attributes.forEach(kv -> map.put(kv.getKey(), kv.getValue().getStringValue()));
        return map;
    }

    private static AnyValue string(String s) {
        return AnyValue.newBuilder().setStringValue(s).build();
    }

    private static AnyValue integer(long i) {
        return AnyValue.newBuilder().setIntValue(i).build();
    }

    private static void collectKeys(JsonNode node, List<String> keys) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                keys.add(field.getKey());
                collectKeys(field.getValue(), keys);
            }
        } else if (node.isArray()) {
            node.forEach(child -> collectKeys(child, keys));
        }
    }
}
