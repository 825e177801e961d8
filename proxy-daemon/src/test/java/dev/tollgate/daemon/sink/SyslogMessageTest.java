package dev.tollgate.daemon.sink;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bytes of one syslog message, field by field (RFC 5424 6, RFC 6587 3.4.1); rsyslog reads them in the IT. */
class SyslogMessageTest {

    private static final Instant TS = Instant.parse("2026-12-06T15:10:00.123456Z");
    private static final String BOM = "\uFEFF";

    @Test
    void jsonFormatIsHeaderThenSeqNodeAndChainAsStructuredDataThenTheJsonLine() {
        SinkEvent event = event("access", "OK", "/a");

        String message = text(new SyslogMessage(16, "tollgate", 4242L, false).message(event));

        assertEquals("<134>1 2026-12-06T15:10:00.123Z gw-1 tollgate 4242 access [tollgate@32473 node=\"gw-1\""
                + " seq=\"7\" chain=\"ab12\"] " + BOM + event.json(), message);
    }

    @Test
    void refusalsAndAdminEventsAreNoticeOthersInformational() {
        SyslogMessage messages = new SyslogMessage(16, "tollgate", null, false);

        assertEquals("<134>1", text(messages.message(event("access", "OK", "/"))).substring(0, 6));
        assertEquals("<133>1", text(messages.message(event("access", "DENIED", "/"))).substring(0, 6));
        assertEquals("<133>1", text(messages.message(event("admin", null, null))).substring(0, 6));
    }

    @Test
    void sdFormatEscapesQuoteBackslashAndBracketAndLeavesOutNullsAndMsg() {
        SinkEvent event = event("access", "OK", "/q\"b\\c]d\né");

        String message = text(new SyslogMessage(16, "tollgate", null, true).message(event));

        assertEquals("<134>1 2026-12-06T15:10:00.123Z gw-1 tollgate - access [tollgate@32473 type=\"access\""
                + " node=\"gw-1\" seq=\"7\" chain=\"ab12\" ts=\"2026-12-06T15:10:00.123456Z\" outcome=\"OK\""
                + " path=\"/q\\\"b\\\\c\\]d\né\" status=\"200\"]", message);
    }

    @Test
    void frameLengthCountsOctetsNotCharacters() {
        SyslogMessage messages = new SyslogMessage(16, "tollgate", null, true);
        SinkEvent event = event("access", "OK", "/é€😀");

        byte[] frame = messages.frame(event);
        byte[] message = messages.message(event);

        String prefix = message.length + " ";
        assertEquals(prefix, new String(frame, 0, prefix.length(), StandardCharsets.US_ASCII));
        assertEquals(prefix.length() + message.length, frame.length);
    }

    private static SinkEvent event(String type, String outcome, String path) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("outcome", outcome);
        fields.put("path", path);
        fields.put("reason", null);
        fields.put("status", 200);
        return new SinkEvent(type, "gw-1", 7, "ab12", TS, fields);
    }

    private static String text(byte[] message) {
        return new String(message, StandardCharsets.UTF_8);
    }
}
