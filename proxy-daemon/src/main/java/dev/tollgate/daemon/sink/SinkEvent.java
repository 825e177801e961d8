package dev.tollgate.daemon.sink;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.AccessRecordFields;
import dev.tollgate.store.AdminEvent;
import dev.tollgate.store.AdminEventLog;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One record as the push sinks send it: an access record (type {@code access}) or an admin event (type
 * {@code admin}), with the node it happened on, its number and, for access records, the sink's hash chain. A
 * receiver detects a gap by a number missing in a node's sequence, a duplicate by a number seen twice (with the same
 * chain), and a changed record by a chain that does not follow from the one before (docs/integrations.md).
 *
 * @param type   {@code access} or {@code admin}
 * @param node   the node that recorded it
 * @param seq    access records: the journal's number (per node, gap-free but for records whose append failed); admin
 *               events: the event's number among its node's events (its own sequence)
 * @param chain  in hex: access records, the sink's chain (SHA-256 of the previous record's value and this record's
 *               canonical bytes, computed as the database's); admin events, the trail's own chain value as stored
 * @param ts     when it happened
 * @param fields the record's columns, in the admin API's names and order ({@link AccessRecordFields}), without
 *               {@code id}, {@code node} and {@code ts}, which are above
 */
public record SinkEvent(String type, String node, long seq, String chain, Instant ts, Map<String, Object> fields) {

    public static final String ACCESS = "access";
    public static final String ADMIN = "admin";

    // Writes to a caller's stream and leaves it open; characters outside the BMP as UTF-8, not as escaped surrogate
    // pairs (as a String's encoding did); the mapper serves values other than strings, numbers and nulls.
    private static final ObjectMapper JSON = JsonMapper.builder().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

    /** An access record numbered {@code seq} in the journal, with its chain value in hex. */
    public static SinkEvent access(long seq, String chain, AccessRecord r) {
        Map<String, Object> fields = AccessRecordFields.asMap(r);
        fields.remove("id");
        fields.remove("node");
        fields.remove("ts");
        return new SinkEvent(ACCESS, r.node(), seq, chain, Instant.ofEpochMilli(r.tsMs()),
                Collections.unmodifiableMap(fields));
    }

    /** An admin event with its number and chain value among its node's events. */
    public static SinkEvent admin(AdminEventLog.Chained chained) {
        AdminEvent e = chained.event();
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("role", e.role());
        fields.put("client_addr", e.clientAddr());
        fields.put("action", e.action());
        fields.put("listener", e.listener());
        fields.put("result", e.result());
        fields.put("status", e.status());
        fields.put("detail", e.detail());
        return new SinkEvent(ADMIN, e.node(), chained.seq(), chained.chain() == null ? null
                : HexFormat.of().formatHex(chained.chain()), e.ts(), Collections.unmodifiableMap(fields));
    }

    /**
     * The event as one line of JSON (no line break): {@code type}, {@code node}, {@code seq}, {@code chain} (access
     * records), {@code ts} (ISO-8601 UTC), then {@link #fields}, nulls included.
     */
    public String json() {
        return new String(jsonBytes(), StandardCharsets.UTF_8);
    }

    /** {@link #json()}'s line as UTF-8 bytes, for a transport that sends bytes. */
    public byte[] jsonBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try {
            writeJson(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /**
     * Writes {@link #json()}'s line, UTF-8, to {@code out} (left open), with no string or map in between: the sinks'
     * thread does this for every record it delivers.
     */
    public void writeJson(OutputStream out) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("type", type);
            g.writeStringField("node", node);
            g.writeNumberField("seq", seq);
            if (chain != null) {
                g.writeStringField("chain", chain);
            }
            g.writeStringField("ts", ts.toString());
            for (Map.Entry<String, Object> field : fields.entrySet()) {
                g.writeFieldName(field.getKey());
                Object value = field.getValue();
                if (value == null) {
                    g.writeNull();
                } else if (value instanceof String text) {
                    g.writeString(text);
                } else if (value instanceof Integer number) {
                    g.writeNumber(number);
                } else if (value instanceof Long number) {
                    g.writeNumber(number);
                } else {
                    g.writeObject(value);
                }
            }
            g.writeEndObject();
        }
    }
}
