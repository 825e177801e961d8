package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failing upstreams (issue #10): refused, silent, cut off mid-body by a TCP reset (Content-Length and chunked
 * framing), and answering with a truncated status line or header section. The client is told 502 or 504 when
 * nothing was sent to it yet, and sees a visibly truncated body when the response had begun; the connection
 * is closed either way, and the one row names the upstream's failure.
 */
class FailingUpstreamIT {

    /** What the resetting origins send before the reset: more than the proxy holds before it commits. */
    private static final int SENT_BEFORE_RESET = 256 * 1024;
    private static final int PROMISED = 1024 * 1024;

    @TempDir
    Path dir;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    private RunningTollgate tollgate;

    @BeforeEach
    void start() throws Exception {
        // A short idle timeout, so that a silent upstream meets its 504 quickly.
        tollgate = closed.add(RunningTollgate.start(dir, Battery.loopbackListener(", \"idleTimeoutMs\": 1000")));
    }

    @Test
    void upstreamThatRefusesTheConnectionIs502Unreachable() throws Exception {
        int closedPort = RawOrigin.closedPort();
        RawHttpConnection.Response response = exchange(closedPort);

        assertEquals(502, response.status());
        assertTrue(response.complete(), "a refusal is a whole response");
        Battery.assertRow(Battery.onlyRow(tollgate), 502, Outcome.UPSTREAM_UNREACHABLE);
    }

    @Test
    void upstreamThatAcceptsAndNeverAnswersIs504AtTheIdleTimeout() throws Exception {
        try (RawOrigin silent = RawOrigin.scripted(FailingUpstreamIT::readAndNeverAnswer)) {
            RawHttpConnection.Response response = exchange(silent.port());

            assertEquals(504, response.status());
            assertEquals(1, silent.connections());
            Battery.assertRow(Battery.onlyRow(tollgate), 504, Outcome.UPSTREAM_TIMEOUT);
        }
    }

    @Test
    void upstreamResettingMidBodyWithContentLengthIsSeenTruncated() throws Exception {
        try (RawOrigin resetting = RawOrigin.scripted((socket, origin) -> resetMidBody(socket,
                "Content-Length: " + PROMISED + "\r\n", new byte[SENT_BEFORE_RESET]))) {
            RawHttpConnection.Response response = exchange(resetting.port());

            assertNeverCleanlyShort(response);
            if (response.status() == 200) {
                assertNotNull(response.header("Content-Length"), "the length promised is passed on");
                assertTrue(response.body().length < PROMISED);
            }
            AccessRecord row = Battery.onlyRow(tollgate);
            Battery.assertRow(row, response.status(), Outcome.UPSTREAM_RESET);
            assertTrue(row.bytesToClient() < PROMISED, row::toString);
        }
    }

    @Test
    void upstreamResettingMidBodyWithChunkedFramingIsSeenTruncated() throws Exception {
        byte[] chunks = chunked(SENT_BEFORE_RESET, 8 * 1024);
        try (RawOrigin resetting = RawOrigin.scripted((socket, origin) -> resetMidBody(socket,
                "Transfer-Encoding: chunked\r\n", chunks))) {
            RawHttpConnection.Response response = exchange(resetting.port());

            assertNeverCleanlyShort(response);
            if (response.status() == 200) {
                assertTrue(response.header("Transfer-Encoding").contains("chunked"), "a chunked stream, cut:"
                        + " its last chunk never comes");
            }
            Battery.assertRow(Battery.onlyRow(tollgate), response.status(), Outcome.UPSTREAM_RESET);
        }
    }

    @Test
    void upstreamResettingMidChunkedBodyIsSeenCutByAClientThatSentConnectionClose() throws Exception {
        closeDelimitedBodyIsCutByAReset("HTTP/1.1", "Connection: close\r\n");
    }

    @Test
    void upstreamResettingMidChunkedBodyIsSeenCutByAnHttp10Client() throws Exception {
        closeDelimitedBodyIsCutByAReset("HTTP/1.0", "");
    }

    /**
     * A client that will not keep its connection gets the origin's chunked response close-delimited (no
     * Content-Length, no chunking: RFC 9112 6.3), whose clean end is the close itself. When the origin resets
     * mid-body the client's connection must end in a reset too, never a FIN that makes the short body look
     * whole (issue #20).
     */
    private void closeDelimitedBodyIsCutByAReset(String version, String fields) throws Exception {
        byte[] chunks = chunked(SENT_BEFORE_RESET, 8 * 1024);
        try (RawOrigin resetting = RawOrigin.scripted((socket, origin) -> resetMidBody(socket,
                "Transfer-Encoding: chunked\r\n", chunks));
             Socket client = new Socket(RawHttpConnection.loopback(), tollgate.port())) {
            client.setSoTimeout(30_000);
            client.getOutputStream().write(("GET http://127.0.0.1:" + resetting.port() + "/data " + version
                    + "\r\nHost: 127.0.0.1:" + resetting.port() + "\r\n" + fields + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = new BufferedInputStream(client.getInputStream());
            String head = RawHttpConnection.readHead(in);
            assertNotNull(head, "a response head");
            String lower = head.toLowerCase(java.util.Locale.ROOT);
            boolean reset = false;
            long body = 0;
            byte[] buffer = new byte[8192];
            try {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    body += n;
                }
            } catch (java.net.SocketException connectionReset) {
                reset = true;
            }

            if (lower.startsWith("http/1.1 200") && !lower.contains("\r\ncontent-length:")
                    && !lower.contains("\r\ntransfer-encoding:")) {
                long received = body;
                assertTrue(reset, () -> "a close-delimited body cut after " + received + " bytes must end in a"
                        + " reset, not a clean close");
            } else {
                assertTrue(lower.startsWith("http/1.1 502"), () -> "either the cut shows or nothing began: " + head);
            }
            Battery.assertRow(Battery.onlyRow(tollgate), lower.startsWith("http/1.1 200") ? 200 : 502,
                    Outcome.UPSTREAM_RESET);
        }
    }

    @Test
    void upstreamSendingATruncatedStatusLineIs502() throws Exception {
        badHeadIs502("HTTP/1.1 20");
    }

    @Test
    void upstreamSendingATruncatedHeaderSectionIs502() throws Exception {
        badHeadIs502("HTTP/1.1 200 OK\r\nContent-Type: text/pl");
    }

    @Test
    void upstreamSendingAGarbledStatusLineIs502() throws Exception {
        badHeadIs502("HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }

    @Test
    void upstreamSendingContentLengthWithTransferEncodingIs502() throws Exception {
        badHeadIs502("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    }

    /** An upstream whose head is broken, then closes: 502, nothing of it passed on, one row. */
    private void badHeadIs502(String head) throws Exception {
        try (RawOrigin broken = RawOrigin.scripted((socket, origin) -> {
            if (RawOrigin.readHead(socket.getInputStream()) != null) {
                socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                socket.shutdownOutput();
                drain(socket.getInputStream());
            }
        })) {
            RawHttpConnection.Response response = exchange(broken.port());

            assertEquals(502, response.status(), response::bodyText);
            assertEquals(1, broken.connections());
            AccessRecord row = Battery.onlyRow(tollgate);
            Battery.assertRow(row, 502, Outcome.UPSTREAM_RESET);
        }
    }

    /**
     * A GET through the proxy to 127.0.0.1:{@code port}, read to the end: every failure closes the client's
     * connection, so after one is seen nothing on the connection can be mistaken for what comes next.
     */
    private RawHttpConnection.Response exchange(int port) throws IOException {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://127.0.0.1:" + port + "/data HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();
            connection.awaitClosedByPeer();
            return response;
        }
    }

    /**
     * A cut body is never passed on as a clean short response: either the response had not begun (502, whole)
     * or it is a 200 whose framing the client sees unmet.
     */
    private static void assertNeverCleanlyShort(RawHttpConnection.Response response) {
        assertTrue(response.status() == 200 || response.status() == 502, () -> "status " + response.status());
        if (response.status() == 200) {
            assertFalse(response.complete(), "a body the upstream cut short must never look complete, got "
                    + response.body().length + " bytes");
        }
    }

    private static void readAndNeverAnswer(Socket socket, RawOrigin origin) throws IOException {
        drain(socket.getInputStream());
    }

    /** Reads the request head, sends a 200 head with {@code framing} and {@code body}, then resets. */
    private static void resetMidBody(Socket socket, String framing, byte[] body) throws IOException {
        InputStream in = new BufferedInputStream(socket.getInputStream());
        if (RawOrigin.readHead(in) == null) {
            return;
        }
        OutputStream out = socket.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framing + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** {@code total} bytes as chunks of {@code size}, without the last chunk. */
    private static byte[] chunked(int total, int size) {
        StringBuilder chunks = new StringBuilder();
        String data = "x".repeat(size);
        for (int sent = 0; sent < total; sent += size) {
            chunks.append(Integer.toHexString(size)).append("\r\n").append(data).append("\r\n");
        }
        return chunks.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        while (in.read(buffer) >= 0) {
            // Swallow until the proxy closes.
        }
    }
}
