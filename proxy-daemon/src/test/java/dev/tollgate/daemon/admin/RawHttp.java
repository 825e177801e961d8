package dev.tollgate.daemon.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One request over a plain socket to 127.0.0.1, written exactly as the test gives it: a chosen {@code Host}
 * header, a percent-encoded path no client library would leave alone, an absolute-form request to a proxy
 * listener. The test ends the head with {@code Connection: close}; the answer is read to the end of the
 * connection.
 */
final class RawHttp {

    /** A safety net so that a hung exchange fails the test instead of hanging the build; not a timing check. */
    private static final int READ_LIMIT_MS = 30_000;

    private RawHttp() {
    }

    /** 127.0.0.1, whatever the JVM's IPv6 preference. */
    static InetAddress loopback() throws IOException {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    }

    /** A request head for {@code method target} with the given Host, no body, {@code Connection: close}. */
    static String head(String method, String target, String host, String... extraHeaders) {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String header : extraHeaders) {
            head.append(header).append("\r\n");
        }
        return head.append("Connection: close\r\n\r\n").toString();
    }

    /** Sends {@code request} (ISO-8859-1, as written) to 127.0.0.1:{@code port} and reads the answer. */
    static AdminClient.Reply exchange(int port, String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(loopback(), port), READ_LIMIT_MS);
            socket.setSoTimeout(READ_LIMIT_MS);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return parse(socket.getInputStream().readAllBytes());
        }
    }

    /** Reads one response head (status line and fields, up to the blank line) from a live connection. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a response head: "
                        + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static AdminClient.Reply parse(byte[] raw) throws IOException {
        String all = new String(raw, StandardCharsets.ISO_8859_1);
        int headEnd = all.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            throw new IOException("no complete response head in: " + all);
        }
        String[] lines = all.substring(0, headEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ", 3)[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    k -> new ArrayList<>()).add(lines[i].substring(colon + 1).trim());
        }
        byte[] body = Arrays.copyOfRange(raw, headEnd + 4, raw.length);
        List<String> encoding = headers.getOrDefault("transfer-encoding", List.of());
        if (!encoding.isEmpty() && encoding.get(0).toLowerCase(Locale.ROOT).contains("chunked")) {
            body = dechunk(body);
        }
        return new AdminClient.Reply(status, headers, body);
    }

    private static byte[] dechunk(byte[] chunked) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int at = 0;
        while (true) {
            int lineEnd = indexOfCrlf(chunked, at);
            String sizeLine = new String(chunked, at, lineEnd - at, StandardCharsets.ISO_8859_1);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            at = lineEnd + 2;
            if (size == 0) {
                return body.toByteArray();
            }
            body.write(chunked, at, size);
            at += size + 2;
        }
    }

    private static int indexOfCrlf(byte[] bytes, int from) throws IOException {
        for (int i = from; i + 1 < bytes.length; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        throw new IOException("chunked body cut short");
    }
}
