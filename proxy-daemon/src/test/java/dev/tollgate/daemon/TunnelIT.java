package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.RawOrigin;
import dev.tollgate.testing.origins.UnacceptingOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * CONNECT tunnels (RFC 9110 9.3.6) through a real daemon to real origins on loopback: what the client sees on
 * the wire, and the one TUNNEL row each tunnel leaves in the access log.
 */
class TunnelIT {

    /** Every client socket gives up reading after this long, so that a broken tunnel fails instead of hanging. */
    private static final int READ_TIMEOUT_MS = 30_000;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    @Test
    void httpsGetThroughATunnelToATlsOriginIsRecordedAsOneTunnelRow() throws Exception {
        try (WebOrigin origin = WebOrigin.tls(dir);
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(origin.port()))) {
            HttpClient client = ProxyClient.builder(tollgate.port()).sslContext(origin.clientSslContext()).build();
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(origin.base() + "/hello"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("hello", response.body());

            // The JDK client keeps the tunnel open in its pool (and on Java 17 cannot be closed): stopping the
            // origin ends the tunnel from the far side, which is when its row is written.
            int originPort = origin.port();
            origin.close();
            AccessRecord row = tollgate.awaitRows(1, r -> r.kind() == Kind.TUNNEL).get(0);
            assertEquals("CONNECT", row.method());
            assertEquals("127.0.0.1", row.host());
            assertEquals(originPort, row.port());
            assertEquals(200, row.status());
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals("127.0.0.1", row.upstreamAddr());
            assertEquals("main", row.listener());
            assertEquals("127.0.0.1", row.clientAddr());
            assertNull(row.path());
            assertTrue(row.bytesFromClient() > 0, "bytes_from_client: " + row.bytesFromClient());
            assertTrue(row.bytesToClient() > 0, "bytes_to_client: " + row.bytesToClient());
            assertEquals(1, tollgate.rows().size(), "rows: " + tollgate.rows());
        }
    }

    @Test
    void rawTunnelToAnEchoServerCountsExactlyTheBytesSentAndEchoed() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            long sent = 0;
            try (Socket socket = openTunnel(tollgate.port(), echo.port())) {
                Random random = new Random(1);
                for (int size : new int[] {1, 17, 4096, 70_000}) {
                    byte[] message = new byte[size];
                    random.nextBytes(message);
                    socket.getOutputStream().write(message);
                    socket.getOutputStream().flush();
                    assertArrayEquals(message, readExactly(socket.getInputStream(), size));
                    sent += size;
                }
            }

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals("CONNECT", row.method());
            assertEquals("127.0.0.1", row.host());
            assertEquals(echo.port(), row.port());
            assertEquals(200, row.status());
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals("127.0.0.1", row.upstreamAddr());
            assertEquals(sent, row.bytesFromClient());
            assertEquals(sent, row.bytesToClient());
            EchoOrigin.Connection upstream = echo.awaitFinished(1).get(0);
            assertEquals(sent, upstream.bytesRead());
        }
    }

    @Test
    void bytesPipelinedInTheSameWriteAsTheConnectHeadAreDeliveredAndCounted() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            byte[] early = "sent before the 200 arrived".getBytes(StandardCharsets.US_ASCII);
            byte[] later = "sent after it".getBytes(StandardCharsets.US_ASCII);
            try (Socket socket = connectToProxy(tollgate.port())) {
                ByteArrayOutputStream firstWrite = new ByteArrayOutputStream();
                firstWrite.write(connectHead("127.0.0.1:" + echo.port()));
                firstWrite.write(early);
                socket.getOutputStream().write(firstWrite.toByteArray());
                socket.getOutputStream().flush();

                InputStream in = socket.getInputStream();
                assertEquals(200, statusOf(RawHttpConnection.readHead(in)));
                assertArrayEquals(early, readExactly(in, early.length));
                socket.getOutputStream().write(later);
                socket.getOutputStream().flush();
                assertArrayEquals(later, readExactly(in, later.length));
                socket.shutdownOutput();
                assertEquals(-1, in.read());
            }

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals(early.length + later.length, row.bytesFromClient());
            assertEquals(early.length + later.length, row.bytesToClient());
            assertEquals(EchoOrigin.sha256Hex(concat(early, later)), echo.awaitFinished(1).get(0).receivedSha256());
        }
    }

    /** RFC 9112 9.6: a tunnel relays a half-close to the other side and keeps carrying the other direction. */
    @Test
    void clientHalfClosesInsideATunnelAndStillReceivesTheWholeEchoThenEndOfStream() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            byte[] payload = randomBytes(200_000, 2);
            try (Socket socket = openTunnel(tollgate.port(), echo.port())) {
                // Written from another thread so that the echo flowing back cannot stall the writer.
                ExecutorService writer = Executors.newSingleThreadExecutor();
                try {
                    Future<?> written = writer.submit(() -> {
                        socket.getOutputStream().write(payload);
                        socket.getOutputStream().flush();
                        socket.shutdownOutput();
                        return null;
                    });
                    byte[] received = socket.getInputStream().readAllBytes();
                    written.get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                    assertArrayEquals(payload, received);
                    assertTrue(socket.isOutputShutdown());
                } finally {
                    writer.shutdownNow();
                }
            }

            EchoOrigin.Connection upstream = echo.awaitFinished(1).get(0);
            assertEquals(EchoOrigin.Ending.PEER_EOF, upstream.ending(), "the client's FIN reached the origin");
            List<AccessRecord> rows = tollgate.awaitRows(1);
            AccessRecord row = rows.get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals(payload.length, row.bytesFromClient());
            assertEquals(payload.length, row.bytesToClient());
            assertEquals(1, tollgate.rows().size(), "rows: " + tollgate.rows());
        }
    }

    @Test
    void aHundredConcurrentTunnelsEachCarryAQuarterMebibyteIntactBothWays() throws Exception {
        int tunnels = 100;
        int size = 256 * 1024;
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            ExecutorService readers = Executors.newFixedThreadPool(tunnels);
            ExecutorService writers = Executors.newFixedThreadPool(tunnels);
            List<String> sentDigests = new ArrayList<>();
            try {
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < tunnels; i++) {
                    byte[] payload = randomBytes(size, 1000 + i);
                    String digest = EchoOrigin.sha256Hex(payload);
                    sentDigests.add(digest);
                    results.add(readers.submit(() -> {
                        try (Socket socket = openTunnel(tollgate.port(), echo.port())) {
                            Future<?> written = writers.submit(() -> {
                                OutputStream out = socket.getOutputStream();
                                for (int offset = 0; offset < payload.length; offset += 8192) {
                                    out.write(payload, offset, Math.min(8192, payload.length - offset));
                                }
                                out.flush();
                                socket.shutdownOutput();
                                return null;
                            });
                            MessageDigest received = MessageDigest.getInstance("SHA-256");
                            long count = 0;
                            byte[] buffer = new byte[16 * 1024];
                            InputStream in = socket.getInputStream();
                            for (int n; (n = in.read(buffer)) >= 0; ) {
                                received.update(buffer, 0, n);
                                count += n;
                            }
                            written.get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                            assertEquals(size, count, "bytes echoed back");
                            return HexFormat.of().formatHex(received.digest());
                        }
                    }));
                }
                for (int i = 0; i < tunnels; i++) {
                    assertEquals(sentDigests.get(i), results.get(i).get(2, TimeUnit.MINUTES),
                            "tunnel " + i + ": what came back is what was sent");
                }
            } finally {
                readers.shutdownNow();
                writers.shutdownNow();
            }

            List<EchoOrigin.Connection> upstreams = echo.awaitFinished(tunnels);
            assertEquals(tunnels, upstreams.size());
            assertEquals(Set.copyOf(sentDigests),
                    upstreams.stream().map(EchoOrigin.Connection::receivedSha256).collect(Collectors.toSet()),
                    "what reached the echo server is what the clients sent");
            for (EchoOrigin.Connection upstream : upstreams) {
                assertEquals(size, upstream.bytesRead(), upstream.toString());
                assertEquals(EchoOrigin.Ending.PEER_EOF, upstream.ending(), upstream.toString());
            }

            tollgate.awaitRows(tunnels, r -> r.kind() == Kind.TUNNEL);
            List<AccessRecord> rows = tollgate.rows();
            assertEquals(tunnels, rows.size());
            for (AccessRecord row : rows) {
                assertEquals(Kind.TUNNEL, row.kind(), row.toString());
                assertEquals(200, row.status(), row.toString());
                assertEquals(Outcome.OK, row.outcome(), row.toString());
                assertEquals(echo.port(), row.port(), row.toString());
                assertEquals(size, row.bytesFromClient(), row.toString());
                assertEquals(size, row.bytesToClient(), row.toString());
            }
            assertEquals(tunnels, rows.stream().map(AccessRecord::clientPort).distinct().count(),
                    "one row per client connection");
        }
    }

    @Test
    void connectToAClosedPortIsAnswered502WithATextBodyAndRecordedAsUnreachable() throws Exception {
        int closedPort = RawOrigin.closedPort();
        try (RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(closedPort));
             Socket socket = connectToProxy(tollgate.port())) {
            socket.getOutputStream().write(connectHead("127.0.0.1:" + closedPort));
            socket.getOutputStream().flush();
            RawResponse response = readResponse(socket.getInputStream());
            assertEquals(502, response.status());
            assertTrue(response.header("content-type").startsWith("text/plain"), response.headers().toString());
            assertTrue(response.body().startsWith("502 "), response.body());

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals("CONNECT", row.method());
            assertEquals("127.0.0.1", row.host());
            assertEquals(closedPort, row.port());
            assertEquals(502, row.status());
            assertEquals(Outcome.UPSTREAM_UNREACHABLE, row.outcome());
            assertNotNull(row.reason());
            assertEquals("127.0.0.1", row.upstreamAddr());
            assertEquals(0, row.bytesFromClient());
            assertEquals(0, row.bytesToClient());
            assertEquals(1, tollgate.rows().size(), "rows: " + tollgate.rows());
        }
    }

    /** RFC 9110 9.3.6: a CONNECT target is authority-form, host and port. Nothing is dialled without a port. */
    @Test
    void connectWithoutAPortIsRefused400AndNothingIsDialled() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(443));
             Socket socket = connectToProxy(tollgate.port())) {
            socket.getOutputStream().write(connectHead("example.com"));
            socket.getOutputStream().flush();
            RawResponse response = readResponse(socket.getInputStream());
            assertEquals(400, response.status());

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals("CONNECT", row.method());
            assertEquals(400, row.status());
            assertEquals(Outcome.BAD_REQUEST, row.outcome());
            assertNotNull(row.reason());
            assertNull(row.upstreamAddr(), "nothing was dialled");
            assertEquals(1, tollgate.rows().size(), "rows: " + tollgate.rows());
        }
    }

    @Test
    void connectToAnUpstreamThatNeverAcceptsTimesOutWith504() throws Exception {
        try (UnacceptingOrigin silent = UnacceptingOrigin.filled()) {
            String listener = "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": ["
                    + silent.port() + "], \"connectTimeoutMs\": 1000}";
            try (RunningTollgate tollgate = RunningTollgate.start(dir, listener);
                 Socket socket = connectToProxy(tollgate.port())) {
                socket.getOutputStream().write(connectHead("127.0.0.1:" + silent.port()));
                socket.getOutputStream().flush();
                RawResponse response = readResponse(socket.getInputStream());
                assertEquals(504, response.status());
                assertTrue(response.header("content-type").startsWith("text/plain"), response.headers().toString());

                AccessRecord row = tollgate.awaitRows(1).get(0);
                assertEquals(Kind.TUNNEL, row.kind());
                assertEquals(504, row.status());
                assertEquals(silent.port(), row.port());
                assertEquals(Outcome.UPSTREAM_TIMEOUT, row.outcome());
                assertNotNull(row.reason());
                assertEquals("127.0.0.1", row.upstreamAddr());
            }
        }
    }

    /**
     * Jetty 12.1.14's {@code SocketChannelEndPoint.fill} catches the IOException of a read ("Connection reset"),
     * shuts input down and returns -1: to ConnectHandler's pipe, and to TunnelHandler's read hook, an RST from
     * the origin looks exactly like a FIN. The tunnel is half-closed toward the client as after a clean close,
     * and the row comes out OK (checked: bytes 10000/10000, outcome OK, reason null).
     */
    @Test
    void upstreamResetMidStreamEndsTheClientsTunnelAndIsRecordedAsUpstreamReset() throws Exception {
        int resetAfter = 10_000;
        try (EchoOrigin echo = EchoOrigin.resettingAfter(resetAfter);
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            long received = 0;
            try (Socket socket = openTunnel(tollgate.port(), echo.port())) {
                socket.getOutputStream().write(randomBytes(resetAfter, 3));
                socket.getOutputStream().flush();
                try {
                    InputStream in = socket.getInputStream();
                    byte[] buffer = new byte[8192];
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        received += n;
                    }
                } catch (SocketTimeoutException e) {
                    fail("the tunnel stayed open after the upstream reset", e);
                } catch (SocketException e) {
                    // The proxy may pass the abort on as a reset too: the tunnel ended either way.
                }
            }
            assertTrue(received <= resetAfter, "received " + received);
            assertEquals(EchoOrigin.Ending.RESET_BY_SERVER, echo.awaitFinished(1).get(0).ending());

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(200, row.status(), "the tunnel had been established");
            assertEquals(resetAfter, row.bytesFromClient());
            assertTrue(row.bytesToClient() <= resetAfter, row.toString());
            assertEquals(Outcome.UPSTREAM_RESET, row.outcome(), row.toString());
            assertNotNull(row.reason());
        }
    }

    /**
     * A client that aborts its tunnel with a TCP reset (SO_LINGER 0) is recorded CLIENT_ABORT. Jetty's client
     * endpoints used to turn the reset into an ordinary end of stream, and the row said OK.
     */
    @Test
    void aClientResetInsideATunnelIsRecordedAsClientAbort() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            byte[] payload = randomBytes(5_000, 4);
            Socket socket = openTunnel(tollgate.port(), echo.port());
            socket.getOutputStream().write(payload);
            socket.getOutputStream().flush();
            assertArrayEquals(payload, socket.getInputStream().readNBytes(payload.length), "echoed before the reset");
            socket.setSoLinger(true, 0);
            socket.close();

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(payload.length, row.bytesFromClient(), row.toString());
            assertEquals(Outcome.CLIENT_ABORT, row.outcome(), row.toString());
            assertTrue(row.reason().contains("client connection failed"), row.toString());
        }
    }

    /**
     * The end of a TLS connection through a tunnel: the client sends its last bytes (close_notify), its FIN, and
     * closes its socket; the origin's own last bytes (its close_notify) come after. The client's kernel answers
     * them with a reset, and the proxy's next write to the client fails ("Broken pipe"). The client had finished
     * and left: the row says OK, not CLIENT_ABORT. Ordered by latches: the origin writes only once it has read the
     * client's FIN and the client's socket is closed, and goes on writing until the proxy closes its side. (A
     * client that closes with bytes unread sends a reset and no FIN: that stays CLIENT_ABORT, as in
     * aClientResetInsideATunnelIsRecordedAsClientAbort.)
     */
    @Test
    void aClientThatFinishedAndClosedIsNoAbortWhenTheOriginsLastBytesMeetItsReset() throws Exception {
        byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
        byte[] pong = "pong".getBytes(StandardCharsets.US_ASCII);
        CountDownLatch clientClosed = new CountDownLatch(1);
        CompletableFuture<String> originEnded = new CompletableFuture<>();
        try (RawOrigin origin = RawOrigin.scripted((socket, raw) -> {
            try {
                InputStream in = socket.getInputStream();
                readExactly(in, ping.length);
                socket.getOutputStream().write(pong);
                socket.getOutputStream().flush();
                if (in.read() != -1) {
                    originEnded.complete("read more than the ping");
                    return;
                }
                if (!clientClosed.await(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    originEnded.complete("the client did not close");
                    return;
                }
                originEnded.complete(writeUntilClosed(socket));
            } catch (IOException | InterruptedException | RuntimeException | Error e) {
                originEnded.complete("failed before its last bytes: " + e);
            }
        });
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(origin.port()))) {
            try (Socket client = openTunnel(tollgate.port(), origin.port())) {
                client.getOutputStream().write(ping);
                client.getOutputStream().flush();
                assertArrayEquals(pong, readExactly(client.getInputStream(), pong.length));
                client.shutdownOutput();
                // Closed with nothing unread: the close itself sends no reset, only what comes after draws one.
            } finally {
                clientClosed.countDown();
            }
            String ended = originEnded.get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertTrue(ended.startsWith(CLOSED_UNDER_THE_WRITER), ended);

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(Outcome.OK, row.outcome(), row.toString());
            assertNull(row.reason(), row.toString());
            assertEquals(ping.length, row.bytesFromClient(), row.toString());
            assertTrue(row.bytesToClient() > pong.length, row.toString());
        }
    }

    /**
     * The same from the other side: the origin sends its answer, its FIN and closes its socket, then the client's
     * last bytes come. The origin's kernel answers them with a reset and the proxy's next write to the origin
     * fails: the origin had finished and left, so the row says OK, not UPSTREAM_RESET.
     */
    @Test
    void anOriginThatFinishedAndClosedIsNoResetWhenTheClientsLastBytesMeetItsReset() throws Exception {
        byte[] greeting = "hello from the origin".getBytes(StandardCharsets.US_ASCII);
        CountDownLatch originClosed = new CountDownLatch(1);
        try (RawOrigin origin = RawOrigin.scripted((socket, raw) -> {
            try (socket) {
                socket.getOutputStream().write(greeting);
                socket.getOutputStream().flush();
                socket.shutdownOutput();
                // Closed with nothing unread (the client sends only after this): no reset of its own.
            } finally {
                originClosed.countDown();
            }
        });
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(origin.port()))) {
            try (Socket client = openTunnel(tollgate.port(), origin.port())) {
                assertArrayEquals(greeting, client.getInputStream().readAllBytes(), "the origin's bytes, then EOF");
                assertTrue(originClosed.await(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS), "the origin closed");
                String ended = writeUntilClosed(client);
                assertTrue(ended.startsWith(CLOSED_UNDER_THE_WRITER), ended);
            }

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(Outcome.OK, row.outcome(), row.toString());
            assertNull(row.reason(), row.toString());
            assertEquals(greeting.length, row.bytesToClient(), row.toString());
            assertTrue(row.bytesFromClient() > 0, row.toString());
        }
    }

    private static final String CLOSED_UNDER_THE_WRITER = "closed under the writer";

    /**
     * Writes 1 KiB at a time into a tunnel whose far end has closed its socket, until the proxy, whose relaying
     * write met the far end's reset, closes this side too and a write fails; or gives up after the read timeout.
     */
    private static String writeUntilClosed(Socket socket) {
        byte[] chunk = new byte[1024];
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS);
        try {
            while (System.nanoTime() - deadline < 0) {
                socket.getOutputStream().write(chunk);
                socket.getOutputStream().flush();
            }
            return "still open after " + READ_TIMEOUT_MS + " ms of writes";
        } catch (IOException e) {
            return CLOSED_UNDER_THE_WRITER + ": " + e;
        }
    }

    // ---- raw CONNECT over sockets -------------------------------------------------------------------------

    private static Socket connectToProxy(int proxyPort) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setSoTimeout(READ_TIMEOUT_MS);
            socket.connect(new InetSocketAddress(LOOPBACK, proxyPort), 10_000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Opens a tunnel to 127.0.0.1:{@code targetPort} and reads the 200 head; the socket then carries payload. */
    private static Socket openTunnel(int proxyPort, int targetPort) throws IOException {
        Socket socket = connectToProxy(proxyPort);
        try {
            socket.getOutputStream().write(connectHead("127.0.0.1:" + targetPort));
            socket.getOutputStream().flush();
            String head = RawHttpConnection.readHead(socket.getInputStream());
            assertEquals(200, statusOf(head), head);
            return socket;
        } catch (IOException | RuntimeException | AssertionError e) {
            socket.close();
            throw e;
        }
    }

    private static byte[] connectHead(String target) {
        return ("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }


    private static int statusOf(String head) {
        String[] statusLine = head.split("\r\n", 2)[0].split(" ", 3);
        assertTrue(statusLine.length >= 2 && statusLine[0].equals("HTTP/1.1"), "status line: " + head);
        return Integer.parseInt(statusLine[1]);
    }

    private record RawResponse(int status, Map<String, String> headers, String body) {
        String header(String name) {
            String value = headers.get(name.toLowerCase(Locale.ROOT));
            assertNotNull(value, "no " + name + " header in " + headers);
            return value;
        }
    }

    /** Reads a whole response whose body is framed by Content-Length. */
    private static RawResponse readResponse(InputStream in) throws IOException {
        String head = RawHttpConnection.readHead(in);
        Map<String, String> headers = new LinkedHashMap<>();
        String[] lines = head.split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
        }
        String length = headers.get("content-length");
        assertNotNull(length, "no Content-Length in " + head);
        byte[] body = readExactly(in, Integer.parseInt(length));
        return new RawResponse(statusOf(head), headers, new String(body, StandardCharsets.UTF_8));
    }

    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new EOFException("expected " + length + " bytes, the stream ended after " + bytes.length);
        }
        return bytes;
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
