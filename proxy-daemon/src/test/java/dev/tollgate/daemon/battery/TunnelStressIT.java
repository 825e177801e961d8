package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Tunnels under stress (issue #10): 500 tunnels open at once, each echoing 1 MiB of its own bytes, checked by
 * SHA-256 at both ends; a half-close started by the upstream; an upstream that resets in the middle of a
 * mebibyte. The client half-close is TunnelIT.clientHalfClosesInsideATunnelAndStillReceivesTheWholeEchoThenEndOfStream.
 */
class TunnelStressIT {

    private static final int TUNNELS = 500;
    private static final int PAYLOAD = 1024 * 1024;
    /** A safety net for the pump so that a stuck tunnel fails the test instead of hanging it; not a timing check. */
    private static final Duration PUMP_LIMIT = Duration.ofMinutes(3);

    /** One mebibyte of random bytes; tunnel i sends it rotated by {@link #offset(int)}, so each sends its own. */
    private static final byte[] BASE = randomBytes(PAYLOAD, 10);

    @TempDir
    Path dir;

    @Test
    void fiveHundredConcurrentTunnelsEachEchoAMebibyteIntactWithChecksumsAtBothEnds() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()));
             Selector selector = Selector.open()) {
            List<Tunnel> tunnels = new ArrayList<>();
            try {
                for (int i = 0; i < TUNNELS; i++) {
                    tunnels.add(Tunnel.open(i, tollgate.port(), echo.port()));
                }
                Poll.until("all " + TUNNELS + " tunnels reach the echo server", Duration.ofSeconds(60),
                        () -> echo.connections().size() == TUNNELS);
                pump(selector, tunnels);
            } finally {
                for (Tunnel tunnel : tunnels) {
                    tunnel.channel.close();
                }
            }

            for (Tunnel tunnel : tunnels) {
                assertEquals(PAYLOAD, tunnel.receivedBytes, () -> "tunnel " + tunnel.index + " received");
                assertEquals(expectedSha256(tunnel.index), tunnel.receivedSha256(), () -> "tunnel " + tunnel.index
                        + ": the bytes echoed back differ from those sent");
            }
            List<EchoOrigin.Connection> upstream = echo.awaitFinished(TUNNELS);
            List<String> expectedAtUpstream = new ArrayList<>();
            for (int i = 0; i < TUNNELS; i++) {
                expectedAtUpstream.add(expectedSha256(i));
            }
            for (EchoOrigin.Connection connection : upstream) {
                assertEquals(EchoOrigin.Ending.PEER_EOF, connection.ending(), connection::toString);
                assertEquals(PAYLOAD, connection.bytesRead(), connection::toString);
                assertTrue(expectedAtUpstream.remove(connection.receivedSha256()),
                        () -> "the echo server received bytes no tunnel sent: " + connection);
            }
            List<AccessRecord> rows = tollgate.awaitRows(TUNNELS);
            assertEquals(TUNNELS, rows.size());
            for (AccessRecord row : rows) {
                assertEquals(Kind.TUNNEL, row.kind());
                Battery.assertRow(row, 200, Outcome.OK);
                assertEquals(PAYLOAD, row.bytesFromClient(), row::toString);
                assertEquals(PAYLOAD, row.bytesToClient(), row::toString);
            }
        }
    }

    /**
     * The upstream speaks, then half-closes (FIN) while still reading: the client sees its bytes and the end of
     * the stream, and may still send; the upstream receives what the client sent after its FIN (RFC 9112 9.6).
     */
    @Test
    void upstreamHalfClosesFirstAndStillReceivesWhatTheClientSendsAfter() throws Exception {
        byte[] greeting = "hello from upstream".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream heardByUpstream = new ByteArrayOutputStream();
        try (RawOrigin upstream = RawOrigin.scripted((socket, origin) -> {
            socket.getOutputStream().write(greeting);
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            byte[] all = socket.getInputStream().readAllBytes();
            synchronized (heardByUpstream) {
                heardByUpstream.write(all);
                heardByUpstream.notifyAll();
            }
        });
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(upstream.port()));
             Socket client = openTunnel(tollgate.port(), upstream.port())) {
            assertArrayEquals(greeting, client.getInputStream().readAllBytes(), "the upstream's bytes, then EOF");

            byte[] reply = randomBytes(64 * 1024, 11);
            client.getOutputStream().write(reply);
            client.getOutputStream().flush();
            client.shutdownOutput();

            Poll.until("the upstream receives everything sent after its half-close", Duration.ofSeconds(30), () -> {
                synchronized (heardByUpstream) {
                    return heardByUpstream.size() == reply.length;
                }
            });
            assertArrayEquals(reply, heardByUpstream.toByteArray());
            AccessRecord row = Battery.onlyRow(tollgate);
            Battery.assertRow(row, 200, Outcome.OK);
            assertEquals(reply.length, row.bytesFromClient());
            assertEquals(greeting.length, row.bytesToClient());
        }
    }

    /** The upstream dies (RST) a quarter into a mebibyte: the client's tunnel ends, the row says UPSTREAM_RESET. */
    @Test
    void upstreamDyingMidStreamEndsTheTunnelAndIsRecordedAsUpstreamReset() throws Exception {
        int resetAfter = PAYLOAD / 4;
        try (EchoOrigin echo = EchoOrigin.resettingAfter(resetAfter);
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()));
             Socket client = openTunnel(tollgate.port(), echo.port())) {
            Thread writer = new Thread(() -> {
                try {
                    client.getOutputStream().write(BASE);
                } catch (IOException expected) {
                    // The tunnel ends under the writer.
                }
            }, "tunnel-writer");
            writer.setDaemon(true);
            writer.start();
            long received = 0;
            try {
                InputStream in = client.getInputStream();
                byte[] buffer = new byte[64 * 1024];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received += n;
                }
            } catch (SocketException reset) {
                // The proxy may pass the abort on as a reset: the tunnel ended either way.
            }
            writer.join(30_000);

            assertTrue(received <= resetAfter, "received " + received);
            assertEquals(EchoOrigin.Ending.RESET_BY_SERVER, echo.awaitFinished(1).get(0).ending());
            AccessRecord row = Battery.onlyRow(tollgate);
            Battery.assertRow(row, 200, Outcome.UPSTREAM_RESET);
            assertTrue(row.bytesToClient() <= resetAfter, row::toString);
            assertTrue(row.reason().contains("upstream"), row.reason());
        }
    }

    // ---- the pump ------------------------------------------------------------------------------------------

    /** Moves every tunnel's payload out and its echo back on one selector thread, until all have ended. */
    private static void pump(Selector selector, List<Tunnel> tunnels) throws IOException {
        for (Tunnel tunnel : tunnels) {
            tunnel.channel.configureBlocking(false);
            tunnel.channel.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE, tunnel);
        }
        ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
        int open = tunnels.size();
        long deadline = System.nanoTime() + PUMP_LIMIT.toNanos();
        while (open > 0) {
            if (System.nanoTime() > deadline) {
                fail(open + " tunnel(s) still moving bytes after " + PUMP_LIMIT);
            }
            selector.select(1_000);
            for (SelectionKey key : selector.selectedKeys()) {
                Tunnel tunnel = (Tunnel) key.attachment();
                if (key.isValid() && key.isWritable()) {
                    tunnel.write();
                    if (tunnel.sent == PAYLOAD) {
                        tunnel.channel.shutdownOutput();
                        key.interestOps(SelectionKey.OP_READ);
                    }
                }
                if (key.isValid() && key.isReadable()) {
                    readBuffer.clear();
                    int n = tunnel.channel.read(readBuffer);
                    if (n < 0) {
                        key.cancel();
                        open--;
                    } else {
                        readBuffer.flip();
                        tunnel.take(readBuffer);
                    }
                }
            }
            selector.selectedKeys().clear();
        }
    }

    /** One client end of a tunnel: what it has sent and a digest of what came back. */
    private static final class Tunnel {
        final int index;
        final SocketChannel channel;
        final MessageDigest digest = sha256();
        final ByteBuffer[] out;
        long sent;
        long receivedBytes;

        private Tunnel(int index, SocketChannel channel) {
            this.index = index;
            this.channel = channel;
            this.out = payloadOf(index);
        }

        static Tunnel open(int index, int proxyPort, int targetPort) throws IOException {
            SocketChannel channel = SocketChannel.open(new InetSocketAddress(RawHttpConnection.loopback(),
                    proxyPort));
            try {
                channel.socket().setSoTimeout(30_000);
                String head = "CONNECT 127.0.0.1:" + targetPort + " HTTP/1.1\r\nHost: 127.0.0.1:" + targetPort
                        + "\r\n\r\n";
                channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
                String response = readHead(channel);
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
                return new Tunnel(index, channel);
            } catch (IOException | RuntimeException | AssertionError e) {
                channel.close();
                throw e;
            }
        }

        void write() throws IOException {
            sent += channel.write(out);
        }

        void take(ByteBuffer bytes) {
            receivedBytes += bytes.remaining();
            digest.update(bytes);
        }

        String receivedSha256() {
            return HexFormat.of().formatHex(digest.digest());
        }
    }

    /** Reads a response head one byte at a time (blocking), so that no payload byte is taken with it. */
    private static String readHead(SocketChannel channel) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (head.size() < 16 * 1024) {
            one.clear();
            if (channel.read(one) < 0) {
                throw new IOException("closed inside the CONNECT response: " + head);
            }
            head.write(one.get(0));
            String text = head.toString(StandardCharsets.ISO_8859_1);
            if (text.endsWith("\r\n\r\n")) {
                return text;
            }
        }
        throw new IOException("CONNECT response head over 16 KiB");
    }

    private static Socket openTunnel(int proxyPort, int targetPort) throws IOException {
        Socket socket = new Socket();
        socket.setSoTimeout(30_000);
        socket.connect(new InetSocketAddress(RawHttpConnection.loopback(), proxyPort), 10_000);
        OutputStream out = socket.getOutputStream();
        out.write(("CONNECT 127.0.0.1:" + targetPort + " HTTP/1.1\r\nHost: 127.0.0.1:" + targetPort + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = RawOrigin.readHead(socket.getInputStream());
        assertTrue(head != null && head.startsWith("HTTP/1.1 200"), String.valueOf(head));
        return socket;
    }

    private static int offset(int index) {
        return (int) ((index * 7919L) % PAYLOAD);
    }

    /** Tunnel {@code index}'s payload: {@link #BASE} rotated left by its offset, as two views of it. */
    private static ByteBuffer[] payloadOf(int index) {
        int offset = offset(index);
        return new ByteBuffer[] {ByteBuffer.wrap(BASE, offset, PAYLOAD - offset), ByteBuffer.wrap(BASE, 0, offset)};
    }

    private static String expectedSha256(int index) {
        MessageDigest digest = sha256();
        int offset = offset(index);
        digest.update(BASE, offset, PAYLOAD - offset);
        digest.update(BASE, 0, offset);
        return HexFormat.of().formatHex(digest.digest());
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
