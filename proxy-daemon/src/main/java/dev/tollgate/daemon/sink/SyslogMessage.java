package dev.tollgate.daemon.sink;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * A {@link SinkEvent} as an RFC 5424 syslog message, framed by octet counting for TCP (RFC 6587 3.4.1, which RFC
 * 5425 uses over TLS too): {@code LEN SP <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]}. Kept apart
 * from {@link SyslogTransport} so that the wire format can be read, and tested, without a socket.
 */
final class SyslogMessage {

    /**
     * The SD-ID of Tollgate's SD-ELEMENT. RFC 5424 7.2.2 wants {@code name@<private enterprise number>} for an
     * element that is not IANA-registered; 32473 is the PEN that RFC 5612 reserves for documentation examples, used
     * here because Tollgate has no PEN of its own. Receivers filter on the exact string (docs/integrations.md), so it
     * must never change once shipped.
     */
    static final String SD_ID = "tollgate@32473";
    /** RFC 5424 6.2.1: informational, for an access record that was let through (outcome OK). */
    static final int INFORMATIONAL = 6;
    /** RFC 5424 6.2.1: notice, for a refusal or error and for every admin event (a change of the proxy). */
    static final int NOTICE = 5;
    /** RFC 5424 6.4: MSG in UTF-8 must start with the BOM; without it the receiver may not assume any encoding. */
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    /** RFC 5424 6.2.3: a TIMESTAMP of RFC 3339 with at most six fraction digits; milliseconds, as the ts is kept. */
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    /** RFC 5424 6.3.3: PARAM-NAME is 1 to 32 printable US-ASCII characters other than '=', SP, ']' and '"'. */
    private static final int MAX_PARAM_NAME = 32;
    private static final String NILVALUE = "-";

    private final int facility;
    private final String appName;
    private final String procId;
    private final boolean sdFormat;

    /**
     * @param facility the facility's code (RFC 5424 6.2.1)
     * @param appName  the APP-NAME, already checked by SinkConfig
     * @param procId   the PROCID: the daemon's pid, or null for the NILVALUE
     * @param sdFormat true for format {@code sd} (every field an SD-PARAM, no MSG), false for {@code json}
     */
    SyslogMessage(int facility, String appName, Long procId, boolean sdFormat) {
        this.facility = facility;
        this.appName = appName;
        this.procId = procId == null ? NILVALUE : procId.toString();
        this.sdFormat = sdFormat;
    }

    /** The event as one octet-counted frame, ready to be written to the stream. */
    byte[] frame(SinkEvent event) {
        byte[] message = message(event);
        byte[] length = (message.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] frame = new byte[length.length + message.length];
        System.arraycopy(length, 0, frame, 0, length.length);
        System.arraycopy(message, 0, frame, length.length, message.length);
        return frame;
    }

    /** The RFC 5424 message without its frame. */
    byte[] message(SinkEvent event) {
        StringBuilder header = new StringBuilder(256)
                .append('<').append(facility * 8 + severity(event)).append(">1 ")
                .append(TIMESTAMP.format(event.ts())).append(' ')
                .append(printable(event.node(), 255)).append(' ')
                .append(appName).append(' ')
                .append(procId).append(' ')
                .append(printable(event.type(), 32)).append(' ');
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        if (sdFormat) {
            header.append(allFields(event));
            out.writeBytes(header.toString().getBytes(StandardCharsets.UTF_8));
        } else {
            header.append('[').append(SD_ID);
            param(header, "node", event.node());
            param(header, "seq", event.seq());
            param(header, "chain", event.chain());
            header.append("] ");
            out.writeBytes(header.toString().getBytes(StandardCharsets.UTF_8));
            out.writeBytes(BOM);
            out.writeBytes(event.jsonBytes());
        }
        return out.toByteArray();
    }

    /** Notice for what a security team looks at first (refusals, errors, admin changes); informational otherwise. */
    static int severity(SinkEvent event) {
        if (SinkEvent.ACCESS.equals(event.type()) && "OK".equals(event.fields().get("outcome"))) {
            return INFORMATIONAL;
        }
        return NOTICE;
    }

    /** Format {@code sd}: the event's JSON keys, in the same order, as SD-PARAMs; nulls left out. */
    private static String allFields(SinkEvent event) {
        StringBuilder sd = new StringBuilder(512).append('[').append(SD_ID);
        param(sd, "type", event.type());
        param(sd, "node", event.node());
        param(sd, "seq", event.seq());
        param(sd, "chain", event.chain());
        param(sd, "ts", event.ts().toString());
        for (Map.Entry<String, Object> field : event.fields().entrySet()) {
            param(sd, field.getKey(), field.getValue());
        }
        return sd.append(']').toString();
    }

    private static void param(StringBuilder sd, String name, Object value) {
        if (value == null) {
            return;
        }
        sd.append(' ').append(paramName(name)).append("=\"");
        escapeInto(sd, value.toString());
        sd.append('"');
    }

    /**
     * RFC 5424 6.3.3: inside a PARAM-VALUE, '"', '\' and ']' must be escaped with a backslash; nothing else is
     * (a line break stays a line break, which octet counting carries).
     */
    static void escapeInto(StringBuilder sd, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\' || c == ']') {
                sd.append('\\');
            }
            sd.append(c);
        }
    }

    /** Our names already qualify; this only guarantees the grammar should a field ever be named otherwise. */
    private static String paramName(String name) {
        String printable = printable(name, MAX_PARAM_NAME);
        return printable.replace('=', '_').replace(']', '_').replace('"', '_');
    }

    /**
     * RFC 5424 6.2.4 and 6.2.7: HOSTNAME and MSGID are printable US-ASCII without spaces, of a bounded length; any
     * other character becomes '_' so that one bad value cannot shift the header's fields.
     */
    private static String printable(String value, int max) {
        if (value == null || value.isEmpty()) {
            return NILVALUE;
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), max));
        for (int i = 0; i < value.length() && out.length() < max; i++) {
            char c = value.charAt(i);
            out.append(c >= '!' && c <= '~' ? c : '_');
        }
        return out.toString();
    }
}
