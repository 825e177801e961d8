package dev.tollgate.daemon.egress;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.clients.ClientTool;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a tunnel carries, read from its client's ClientHello as it passes, never decrypted (issue #22, item 1):
 * real clients through real tunnels, the row's sni, alpn, tls_version and ja4 checked against the bytes the origin
 * received, read a second time by the test itself ({@link CapturedClientHello}).
 */
class ClientHelloIT {

    @TempDir
    Path dir;

    @Test
    void curlsClientHelloIsRecordedWithTheJa4OfTheBytesTheOriginReceived() throws Exception {
        ClientTool.assumeInstalled("curl", "curl");
        try (CapturingOrigin origin = CapturingOrigin.clientHellos();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(origin.port()))) {
            // The origin is no TLS server: curl fails after its ClientHello, which is all there is to see here.
            ClientTool.run(dir, Duration.ofSeconds(60), Map.of(), List.of("curl", "-s", "-k", "--max-time", "20",
                    "-x", "http://127.0.0.1:" + tollgate.port(), "https://localhost:" + origin.port() + "/"));
            CapturedClientHello sent = origin.nextHello();

            AccessRecord row = tollgate.awaitRows(1, r -> r.kind() == Kind.TUNNEL).get(0);
            assertEquals("localhost", row.sni());
            assertEquals(sent.sni(), row.sni());
            assertEquals(sent.alpnText(), row.alpn());
            assertEquals(sent.tlsVersion(), row.tlsVersion());
            assertEquals(sent.ja4(), row.ja4());
            assertTrue(row.ja4().startsWith("t13d"), row.ja4());
            assertEquals(sent.record().length, row.bytesFromClient(), "the ClientHello passed whole, nothing more");
        }
    }

    @Test
    void theJdkClientsClientHelloIsRecordedAndItsRequestAnswered() throws Exception {
        try (CapturingOrigin capture = CapturingOrigin.clientHellos();
             WebOrigin origin = WebOrigin.tls(dir);
             RunningTollgate tollgate = RunningTollgate.start(dir,
                     RunningTollgate.loopbackListener(capture.port(), origin.port()))) {
            HttpClient client = ProxyClient.builder(tollgate.port())
                    .sslContext(origin.clientSslContext()).version(HttpClient.Version.HTTP_2).build();
            // Once to the capturing origin, for the bytes; the JDK sends the same ClientHello to both.
            try {
                client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + capture.port() + "/"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.discarding());
            } catch (java.io.IOException expected) {
                // No TLS server there.
            }
            CapturedClientHello sent = capture.nextHello();
            AccessRecord captured = tollgate.awaitRows(1, r -> r.port() == capture.port()).get(0);
            assertEquals(sent.ja4(), captured.ja4());
            assertEquals(sent.alpnText(), captured.alpn());
            assertEquals(sent.tlsVersion(), captured.tlsVersion());

            // And through to a real TLS origin: the tunnel works as before, its row says the same.
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(origin.base() + "/hello"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("hello", response.body());
            int originPort = origin.port();
            origin.close();
            AccessRecord row = tollgate.awaitRows(1, r -> r.port() == originPort).get(0);
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertNull(row.sni(), "the JDK sends no SNI for an address");
            assertEquals("h2,http/1.1", row.alpn());
            assertEquals("TLSv1.3", row.tlsVersion());
            assertTrue(row.ja4().startsWith("t13i") && row.ja4().contains("h2_"), row.ja4());
        }
    }

    /** The same ClientHello bytes cut into two TCP writes, and re-framed as two TLS records: the same JA4. */
    @Test
    void aClientHelloSplitOverTwoSegmentsAndTwoRecordsIsReadWhole() throws Exception {
        ClientTool.assumeInstalled("curl", "curl");
        byte[] hello;
        try (CapturingOrigin origin = CapturingOrigin.clientHellos()) {
            ClientTool.run(dir, Duration.ofSeconds(60), Map.of(), List.of("curl", "-s", "-k", "--max-time", "20",
                    "--noproxy", "*", "https://localhost:" + origin.port() + "/"));
            hello = origin.nextHello().record();
        }
        String expected = CapturedClientHello.parse(hello).ja4();
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
                int cut = hello.length / 2;
                tunnel.write(Arrays.copyOfRange(hello, 0, cut));
                tunnel.write(Arrays.copyOfRange(hello, cut, hello.length));
                assertArrayEquals(hello, tunnel.readExactly(hello.length), "passed on unchanged");
            }
            try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
                byte[] twoRecords = twoRecords(hello, 100);
                tunnel.write(twoRecords);
                assertArrayEquals(twoRecords, tunnel.readExactly(twoRecords.length));
            }
            List<AccessRecord> rows = tollgate.awaitRows(2);
            for (AccessRecord row : rows) {
                assertEquals(expected, row.ja4(), row::toString);
                assertEquals("localhost", row.sni());
            }
        }
    }

    @Test
    void aTunnelThatDoesNotStartWithTlsIsRecordedAsNone() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()))) {
            try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
                tunnel.roundTrip("SSH-2.0-OpenSSH_9.6\r\n");
            }
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals("none", row.tlsVersion());
            assertNull(row.ja4());
            assertNull(row.sni());
            assertNull(row.alpn());
        }
    }

    /**
     * A server-speaks-first protocol (SMTP, SSH): the client sends nothing before it has read the greeting, and
     * the tunnel does not wait for a ClientHello that is not coming.
     */
    @Test
    void aClientThatSendsNothingGetsItsServerSpeaksFirstOriginAndARowWithNoTls() throws Exception {
        try (CapturingOrigin origin = CapturingOrigin.speakingFirst("220 origin ready\r\n");
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(origin.port()))) {
            try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), origin.port())) {
                assertEquals("220 origin ready\r\n", new String(tunnel.readExactly(18), StandardCharsets.US_ASCII));
            }
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals(0, row.bytesFromClient());
            assertEquals(18, row.bytesToClient());
            assertNull(row.tlsVersion(), "nothing was seen");
            assertNull(row.ja4());
        }
    }

    private static byte[] twoRecords(byte[] record, int firstFragment) {
        byte[] fragment = Arrays.copyOfRange(record, 5, record.length);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] part : List.of(Arrays.copyOfRange(fragment, 0, firstFragment),
                Arrays.copyOfRange(fragment, firstFragment, fragment.length))) {
            out.write(22);
            out.write(record[1]);
            out.write(record[2]);
            out.write(part.length >> 8);
            out.write(part.length & 0xff);
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
