package dev.tollgate.daemon.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sink events as an OTLP {@code ExportLogsServiceRequest} in the OTLP/JSON encoding (opentelemetry-proto's
 * docs/specification.md, "JSON Protobuf Encoding"): the proto3 JSON mapping with lowerCamelCase keys only, 64-bit
 * integers ({@code timeUnixNano}, {@code intValue}) as decimal strings, enums ({@code severityNumber}) as integers,
 * never their names. Written with Jackson rather than the generated protobuf classes, so the daemon ships no second
 * serialization stack (docs/integrations.md); test-support's {@code OtlpReceiver} decodes it with those classes.
 *
 * <p>One {@code ResourceLogs} per node (in the order each node first appears; a node's records keep their order),
 * each with one {@code ScopeLogs} named {@value #SCOPE}; one {@code LogRecord} per event, its body the event's JSON
 * line (the same text the file and syslog sinks send), its fields also as attributes, under the semantic-convention
 * names of {@link #SEMCONV_NAMES} where one means the same and has the same form, else {@code tollgate.<field>}.
 */
final class OtlpLogs {

    static final String SCOPE = "dev.tollgate.access";
    static final String SERVICE_NAME = "tollgate";
    /** OTLP's SeverityNumber: INFO for a request that went through, WARN for a refusal, a failure or an admin act. */
    static final int SEVERITY_INFO = 9;
    static final int SEVERITY_WARN = 13;

    /**
     * The fields that have an OpenTelemetry semantic-convention attribute with the same meaning and value form;
     * every other field goes out as {@code tollgate.<field>}. {@code path} is split at its first {@code ?} into
     * {@code url.path} and {@code url.query} (with {@code logQuery} a path carries its query).
     */
    static final Map<String, String> SEMCONV_NAMES = Map.of(
            "client_addr", "client.address",
            "client_port", "client.port",
            "username", "user.name",
            "method", "http.request.method",
            "host", "server.address",
            "port", "server.port",
            "status", "http.response.status_code",
            "sni", "tls.client.server_name");

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private OtlpLogs() {
    }

    /** The request for {@code events} as UTF-8 JSON, each record observed at {@code observed}. */
    static byte[] request(List<SinkEvent> events, Instant observed) {
        Map<String, List<SinkEvent>> byNode = new LinkedHashMap<>();
        for (SinkEvent event : events) {
            byNode.computeIfAbsent(event.node(), node -> new ArrayList<>()).add(event);
        }
        ObjectNode request = NODES.objectNode();
        ArrayNode resourceLogs = request.putArray("resourceLogs");
        byNode.forEach((node, nodeEvents) -> {
            ObjectNode resource = resourceLogs.addObject();
            ArrayNode resourceAttributes = resource.putObject("resource").putArray("attributes");
            attribute(resourceAttributes, "service.name", SERVICE_NAME);
            attribute(resourceAttributes, "service.instance.id", node);
            attribute(resourceAttributes, "host.name", node);
            ObjectNode scopeLogs = resource.putArray("scopeLogs").addObject();
            scopeLogs.putObject("scope").put("name", SCOPE);
            ArrayNode logRecords = scopeLogs.putArray("logRecords");
            String observedNanos = unixNanos(observed);
            for (SinkEvent event : nodeEvents) {
                logRecords.add(logRecord(event, observedNanos));
            }
        });
        try {
            return JSON.writeValueAsBytes(request);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an OTLP request could not be written as JSON", e);
        }
    }

    /** Whether the event is a refusal, a failure or an admin act (WARN) rather than a request that went through. */
    static boolean isWarning(SinkEvent event) {
        return !SinkEvent.ACCESS.equals(event.type()) || !"OK".equals(event.fields().get("outcome"));
    }

    private static ObjectNode logRecord(SinkEvent event, String observedNanos) {
        ObjectNode record = NODES.objectNode();
        record.put("timeUnixNano", unixNanos(event.ts()));
        record.put("observedTimeUnixNano", observedNanos);
        boolean warning = isWarning(event);
        record.put("severityNumber", warning ? SEVERITY_WARN : SEVERITY_INFO);
        record.put("severityText", warning ? "WARN" : "INFO");
        record.putObject("body").put("stringValue", event.json());
        ArrayNode attributes = record.putArray("attributes");
        attribute(attributes, "tollgate.type", event.type());
        attribute(attributes, "tollgate.node", event.node());
        attribute(attributes, "tollgate.seq", event.seq());
        if (event.chain() != null) {
            attribute(attributes, "tollgate.chain", event.chain());
        }
        event.fields().forEach((field, value) -> fieldAttributes(attributes, field, value));
        return record;
    }

    /** A field's attribute or attributes; none for a null (OTLP has no null: the body keeps it). */
    private static void fieldAttributes(ArrayNode attributes, String field, Object value) {
        if (value == null) {
            return;
        }
        if (field.equals("path")) {
            String path = value.toString();
            int query = path.indexOf('?');
            attribute(attributes, "url.path", query < 0 ? path : path.substring(0, query));
            if (query >= 0) {
                attribute(attributes, "url.query", path.substring(query + 1));
            }
            return;
        }
        if (field.equals("port") && value instanceof Number port && port.intValue() == 0) {
            return; // 0 is the record's "no port", not a port
        }
        attribute(attributes, SEMCONV_NAMES.getOrDefault(field, "tollgate." + field), value);
    }

    /** A KeyValue: integers as {@code intValue} (a decimal string), booleans, doubles, anything else a string. */
    private static void attribute(ArrayNode attributes, String key, Object value) {
        ObjectNode keyValue = attributes.addObject();
        keyValue.put("key", key);
        ObjectNode anyValue = keyValue.putObject("value");
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            anyValue.put("intValue", value.toString());
        } else if (value instanceof Boolean b) {
            anyValue.put("boolValue", b);
        } else if (value instanceof Double || value instanceof Float) {
            anyValue.put("doubleValue", ((Number) value).doubleValue());
        } else {
            anyValue.put("stringValue", value.toString());
        }
    }

    /** Nanoseconds since the epoch as a decimal string (a fixed64 in OTLP: a string in JSON). */
    private static String unixNanos(Instant t) {
        return Long.toString(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano()));
    }
}
