package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The origin's response headers on their way to the client (RFC 9110 7.6.1): end-to-end ones pass as sent,
 * repeated ones included, and the origin's Date in place of the proxy's own; hop-by-hop ones, the standard ones
 * and those the origin's {@code Connection} header names, stop at the proxy.
 */
class ResponseHeadersIT {

    @TempDir
    Path dir;

    /**
     * The origin names X-Private in one Connection field with keep-alive, or in a second field after a plain
     * {@code Connection: keep-alive} (which the proxy reads without a parse): either way it stops here.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Connection: X-Private, keep-alive\r\n",
            "Connection: keep-alive\r\nConnection: X-Private\r\n"})
    void hopByHopResponseHeadersStopAtTheProxyAndEndToEndOnesPass(String connectionFields) throws Exception {
        String head = "HTTP/1.1 200 OK\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: 2\r\n"
                + "Date: Tue, 01 Jan 2030 00:00:00 GMT\r\n"
                + connectionFields
                + "X-Private: origin-to-proxy only\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "Proxy-Authenticate: Basic realm=\"origin\"\r\n"
                + "Upgrade: h2c\r\n"
                + "Set-Cookie: a=1\r\n"
                + "Set-Cookie: b=2\r\n"
                + "X-End-To-End: kept\r\n"
                + "\r\n";
        try (RawOrigin origin = RawOrigin.scripted((socket, o) -> {
                 InputStream in = new BufferedInputStream(socket.getInputStream());
                 OutputStream out = socket.getOutputStream();
                 while (o.readRequest(in) != null) {
                     out.write((head + "ok").getBytes(StandardCharsets.ISO_8859_1));
                     out.flush();
                 }
             });
             RunningTollgate tollgate = RunningTollgate.start(dir, Battery.loopbackListener(""));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET " + origin.base() + "/h HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals(200, response.status());
            assertEquals("ok", response.bodyText());
            assertEquals("text/plain", response.header("Content-Type"));
            assertEquals("kept", response.header("X-End-To-End"));
            assertEquals(List.of("a=1", "b=2"), response.headers().get("set-cookie"));
            assertEquals(List.of("Tue, 01 Jan 2030 00:00:00 GMT"), response.headers().get("date"),
                    "the origin's Date, once (the listener's own would make two)");
            assertNull(response.header("X-Private"), "named by the origin's Connection header: hop-by-hop");
            assertNull(response.header("Keep-Alive"));
            assertNull(response.header("Proxy-Authenticate"), "the origin's challenge is not for the proxy's client");
            assertNull(response.header("Upgrade"));
            String connectionHeader = String.valueOf(response.header("Connection")).toLowerCase();
            assertFalse(connectionHeader.contains("x-private"), "the origin's Connection header is not passed on: "
                    + connectionHeader);
            Battery.assertRow(Battery.onlyRow(tollgate), 200, Outcome.OK);
        }
    }
}
