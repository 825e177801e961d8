package dev.tollgate.daemon.audit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 response as a client read it off the wire, parsed after the fact: what these tests count as a
 * response the client received is a status line, a header section and a body complete by its framing.
 *
 * @param status   the status code, or -1 when not even a status line arrived
 * @param headers  field names in lower case (the first value of each)
 * @param body     the body bytes that arrived
 * @param complete whether status line, headers and the whole body (by Content-Length or chunked framing)
 *                 arrived
 */
record HttpResponseBytes(int status, Map<String, String> headers, byte[] body, boolean complete) {

    private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};

    /** Parses {@code raw}, which holds at most one response (the tests send one request per connection). */
    static HttpResponseBytes parse(byte[] raw) {
        int headerEnd = indexOf(raw, HEADER_END, 0);
        if (headerEnd < 0) {
            return new HttpResponseBytes(-1, Map.of(), new byte[0], false);
        }
        String head = new String(raw, 0, headerEnd, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            return new HttpResponseBytes(-1, Map.of(), new byte[0], false);
        }
        int status = Integer.parseInt(statusLine[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.putIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
        }
        int bodyStart = headerEnd + HEADER_END.length;
        String length = headers.get("content-length");
        String encoding = headers.get("transfer-encoding");
        if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            return dechunk(status, headers, raw, bodyStart);
        }
        if (length != null) {
            int expected = Integer.parseInt(length);
            int available = raw.length - bodyStart;
            byte[] body = Arrays.copyOfRange(raw, bodyStart, bodyStart + Math.min(expected, available));
            return new HttpResponseBytes(status, headers, body, available >= expected);
        }
        // Close-delimited: whatever arrived before the end of the connection is the body.
        return new HttpResponseBytes(status, headers, Arrays.copyOfRange(raw, bodyStart, raw.length), true);
    }

    String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    private static HttpResponseBytes dechunk(int status, Map<String, String> headers, byte[] raw, int at) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            int lineEnd = indexOf(raw, new byte[] {'\r', '\n'}, at);
            if (lineEnd < 0) {
                return new HttpResponseBytes(status, headers, body.toByteArray(), false);
            }
            String sizeLine = new String(raw, at, lineEnd - at, StandardCharsets.ISO_8859_1);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            at = lineEnd + 2;
            if (size == 0) {
                return new HttpResponseBytes(status, headers, body.toByteArray(), indexOf(raw, new byte[] {'\r',
                        '\n'}, at) >= 0);
            }
            if (raw.length < at + size + 2) {
                body.write(raw, at, Math.max(0, Math.min(size, raw.length - at)));
                return new HttpResponseBytes(status, headers, body.toByteArray(), false);
            }
            body.write(raw, at, size);
            at += size + 2;
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
