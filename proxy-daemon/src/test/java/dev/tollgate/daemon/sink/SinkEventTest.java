package dev.tollgate.daemon.sink;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The JSON line every sink carries (docs/integrations.md, "The record"): names, order, nulls, escapes, UTF-8. */
class SinkEventTest {

    @Test
    void theLineHasTheHeadFieldsThenEveryFieldInOrderWithNullsAndEscapes() throws Exception {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("duration_ms", 12L);
        fields.put("port", 443);
        fields.put("username", null);
        fields.put("path", "/q\"b\\c\né€😀\u0001");
        fields.put("flag", true);
        SinkEvent event = new SinkEvent("access", "gw-1", 7, "ab12", Instant.parse("2026-12-06T15:10:00.123Z"),
                fields);

        String expected = "{\"type\":\"access\",\"node\":\"gw-1\",\"seq\":7,\"chain\":\"ab12\","
                + "\"ts\":\"2026-12-06T15:10:00.123Z\",\"duration_ms\":12,\"port\":443,\"username\":null,"
                + "\"path\":\"/q\\\"b\\\\c\\né€😀\\u0001\",\"flag\":true}";
        assertEquals(expected, event.json());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('[');
        event.writeJson(out);
        out.write(']'); // the stream stays open and gets nothing but the object
        assertEquals("[" + expected + "]", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anAdminEventHasNoChainField() {
        SinkEvent event = new SinkEvent("admin", "gw-1", 3, null, Instant.parse("2026-12-06T15:10:00Z"), Map.of());

        assertEquals("{\"type\":\"admin\",\"node\":\"gw-1\",\"seq\":3,\"ts\":\"2026-12-06T15:10:00Z\"}", event.json());
    }
}
