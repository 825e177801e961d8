package dev.tollgate.daemon.adminops;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Plain HTTP requests through a proxy listener over a raw socket, one connection each, closed by the request
 * ({@code Connection: close}) so that the exchange is over, and its access record on its way, when the
 * answer has been read. No pooled connection outlives a call.
 */
final class ProxyRequests {

    /**
     * An answer as it came off the wire.
     *
     * @param status the status code
     * @param body   everything after the head, read to the end of the connection (chunk framing included)
     */
    record Answer(int status, String body) {
    }

    private ProxyRequests() {
    }

    /** {@code GET url} in absolute form through the listener on 127.0.0.1:{@code proxyPort}. */
    static Answer get(int proxyPort, String url) throws IOException {
        return send(proxyPort, "GET", url, null);
    }

    /** {@code POST url} with {@code body} as text/plain. */
    static Answer post(int proxyPort, String url, String body) throws IOException {
        return send(proxyPort, "POST", url, body);
    }

    private static Answer send(int proxyPort, String method, String url, String body) throws IOException {
        URI uri = URI.create(url);
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(url).append(" HTTP/1.1\r\n")
                .append("Host: ").append(uri.getRawAuthority()).append("\r\n")
                .append("Connection: close\r\n");
        if (body != null) {
            head.append("Content-Type: text/plain\r\nContent-Length: ").append(content.length).append("\r\n");
        }
        head.append("\r\n");
        try (Socket socket = new Socket()) {
            socket.setSoTimeout(ProxyTunnel.READ_LIMIT_MS);
            socket.connect(new InetSocketAddress(ProxyTunnel.loopback(), proxyPort), ProxyTunnel.READ_LIMIT_MS);
            socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().write(content);
            socket.getOutputStream().flush();
            byte[] answer = readToEnd(socket.getInputStream());
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            int endOfHead = text.indexOf("\r\n\r\n");
            if (endOfHead < 0) {
                throw new IOException(method + " " + url + ": no complete response head: " + text);
            }
            int status = Integer.parseInt(text.substring(0, text.indexOf("\r\n")).split(" ", 3)[1]);
            String rest = new String(answer, endOfHead + 4, answer.length - endOfHead - 4, StandardCharsets.UTF_8);
            return new Answer(status, rest);
        }
    }

    private static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            all.write(buffer, 0, n);
        }
        return all.toByteArray();
    }
}
