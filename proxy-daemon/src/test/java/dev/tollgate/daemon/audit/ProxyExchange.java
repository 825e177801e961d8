package dev.tollgate.daemon.audit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** One GET through the proxy on its own connection ({@code Connection: close}), read to the end. */
final class ProxyExchange {

    /** A safety net so that a hung exchange fails the test instead of hanging the build; not a timing check. */
    private static final int READ_LIMIT_MS = 30_000;

    private ProxyExchange() {
    }

    /** GETs {@code http://127.0.0.1:originPort + pathAndQuery} through the proxy on 127.0.0.1:{@code proxyPort}. */
    static HttpResponseBytes get(int proxyPort, int originPort, String pathAndQuery) throws IOException {
        String origin = "127.0.0.1:" + originPort;
        String request = "GET http://" + origin + pathAndQuery + " HTTP/1.1\r\nHost: " + origin
                + "\r\nConnection: close\r\n\r\n";
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", proxyPort), READ_LIMIT_MS);
            socket.setSoTimeout(READ_LIMIT_MS);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return HttpResponseBytes.parse(socket.getInputStream().readAllBytes());
        }
    }
}
