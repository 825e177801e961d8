package dev.tollgate.daemon.egress;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.clients.ClientTool;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rules on what a tunnel's client says and on what a request names (issue #22, item 2), with real clients:
 * {@code tls.requireSniMatch}, {@code tls.domainRulesOnSni} for a CONNECT to an address, {@code denyIpLiterals}
 * and {@code allowMethods}. A refused tunnel was already answered 200: it is closed before its ClientHello reaches
 * the origin, which the origin's byte count shows.
 */
class EgressRulesIT {

    @TempDir
    Path dir;

    @Test
    void aNameOffANamesOnlyAllowListIsRefused403BeforeItIsResolvedNot502() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.start(dir, "{\"name\": \"main\", \"port\": 0,"
                + " \"allowDestinations\": [\".example.test\"], \"connectPorts\": [443]}")) {
            // .invalid never resolves (RFC 6761 6.4): before, the name was looked up first and the answer was 502.
            assertEquals(403, RawHttpConnection.getVia(tollgate.port(), "http://nowhere.invalid/").status());
            try (RawTunnel tunnel = RawTunnel.open(tollgate.port(), "nowhere.invalid:443", "")) {
                assertEquals(403, tunnel.status(), tunnel.head());
            }
            for (AccessRecord row : tollgate.awaitRows(2)) {
                assertEquals(Outcome.DENIED, row.outcome(), row::toString);
                assertEquals("destination nowhere.invalid matches no entry of allowDestinations", row.reason());
            }
        }
    }

    @Test
    void aForgedSniIsClosedBeforeTheOriginSeesAByteAndRecordedAsDenied() throws Exception {
        ClientTool.assumeInstalled("openssl", "openssl");
        try (CapturingOrigin origin = CapturingOrigin.clientHellos();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"tls\": {\"requireSniMatch\": true}"))) {
            ClientTool.run(dir, Duration.ofSeconds(60), "openssl", "s_client", "-proxy", "127.0.0.1:"
                    + tollgate.port(), "-connect", "127.0.0.1:" + origin.port(), "-servername", "forged.example");

            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.DENIED, row.outcome(), row::toString);
            assertEquals(200, row.status(), "the tunnel had been answered 200");
            assertEquals("tls.requireSniMatch: the SNI forged.example is not the CONNECT host 127.0.0.1",
                    row.reason());
            assertEquals("forged.example", row.sni());
            assertEquals("TLSv1.3", row.tlsVersion());
            assertTrue(row.bytesFromClient() > 0);
            assertEquals(1, origin.connections(), "dialled, as every tunnel is before its 200");
            assertEquals(0, origin.bytesReceived(), "the ClientHello was held, then dropped");
        }
    }

    @Test
    void anSniThatNamesTheConnectHostPassesAndTheTunnelWorks() throws Exception {
        ClientTool.assumeInstalled("curl", "curl");
        try (WebOrigin origin = WebOrigin.tls(dir);
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"tls\": {\"requireSniMatch\": true}"))) {
            ClientTool.Result curl = ClientTool.run(dir, Duration.ofSeconds(60), "curl", "-s", "-k", "--max-time",
                    "20", "-x", "http://127.0.0.1:" + tollgate.port(), "https://localhost:" + origin.port() + "/hello");
            assertEquals("hello", curl.stdout(), curl::output);

            AccessRecord row = tollgate.awaitRows(1, r -> r.kind() == Kind.TUNNEL).get(0);
            assertEquals(Outcome.OK, row.outcome(), row::toString);
            assertEquals("localhost", row.sni());
        }
    }

    /**
     * A CONNECT to an address names no domain for the lists to match: with {@code tls.domainRulesOnSni} its SNI
     * does, an allowed one passes and any other is refused before the origin sees it.
     */
    @Test
    void aConnectToAnAddressIsJudgedByItsSniAgainstTheDomainRules() throws Exception {
        ClientTool.assumeInstalled("openssl", "openssl");
        try (WebOrigin origin = WebOrigin.tls(dir);
             CapturingOrigin capture = CapturingOrigin.clientHellos();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(), capture.port(),
                     "\"allowDestinations\": [\"*.allowed.test\"], \"tls\": {\"domainRulesOnSni\": true}"))) {
            ClientTool.Result allowed = ClientTool.run(dir, Duration.ofSeconds(60), "openssl", "s_client",
                    "-proxy", "127.0.0.1:" + tollgate.port(), "-connect", "127.0.0.1:" + origin.port(),
                    "-servername", "api.allowed.test");
            assertTrue(allowed.stdout().contains("Server certificate"), allowed::output);
            AccessRecord ok = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.OK, ok.outcome(), ok::toString);
            assertEquals("api.allowed.test", ok.sni());

            ClientTool.run(dir, Duration.ofSeconds(60), "openssl", "s_client", "-proxy", "127.0.0.1:"
                    + tollgate.port(), "-connect", "127.0.0.1:" + capture.port(), "-servername", "evil.example");
            AccessRecord denied = tollgate.awaitRows(1, r -> r.port() == capture.port()).get(0);
            assertEquals(Outcome.DENIED, denied.outcome(), denied::toString);
            assertEquals("tls.domainRulesOnSni: destination 127.0.0.1 (SNI evil.example) matches no entry of"
                    + " allowDestinations", denied.reason());
            assertEquals(0, capture.bytesReceived());
        }
    }

    /** Without a readable ClientHello in time, a tunnel whose rules need one is closed when the bound passes. */
    @Test
    void aSilentClientOfAListenerThatRequiresSniIsClosedWhenTheBoundPasses() throws Exception {
        try (CapturingOrigin origin = CapturingOrigin.speakingFirst("220 origin ready\r\n");
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"tls\": {\"requireSniMatch\": true, \"clientHelloTimeoutMs\": 300}"))) {
            try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), origin.port())) {
                assertEquals("220 origin ready\r\n", new String(tunnel.readExactly(18), StandardCharsets.US_ASCII),
                        "the origin's side is never held");
                assertNotEquals(RawTunnel.Ending.STILL_OPEN, tunnel.awaitEnd());
            }
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.DENIED, row.outcome(), row::toString);
            assertEquals("tls.requireSniMatch: no TLS ClientHello within 300 ms (tls.clientHelloTimeoutMs)",
                    row.reason());
        }
    }

    @Test
    void denyIpLiteralsRefusesRequestsAndTunnelsToAnAddressButNotToAName() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"denyIpLiterals\": true"))) {
            RawHttpConnection.Response forwarded = RawHttpConnection.getVia(tollgate.port(),
                    "http://127.0.0.1:" + origin.port() + "/hello");
            assertEquals(403, forwarded.status());
            assertEquals(403, RawTunnel.refusedStatus(tollgate.port(), origin.port()));
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), "http://localhost:" + origin.port()
                    + "/hello").status());

            for (AccessRecord row : tollgate.awaitRows(3)) {
                if (row.host().equals("localhost")) {
                    assertEquals(Outcome.OK, row.outcome(), row::toString);
                    continue;
                }
                assertEquals(Outcome.DENIED, row.outcome(), row::toString);
                assertEquals(403, row.status());
                assertEquals("destination 127.0.0.1 is an IP address literal, not a name; denyIpLiterals is on",
                        row.reason());
            }
            assertEquals(1, origin.hits("/hello"));
        }
    }

    @Test
    void aMethodOutsideAllowMethodsIsRefused403WithItsRow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(origin.port(),
                     "\"allowMethods\": [\"GET\", \"HEAD\"]"))) {
            RawHttpConnection.Response post = RawHttpConnection.postVia(tollgate.port(),
                    "http://127.0.0.1:" + origin.port() + "/hello", "payload");
            assertEquals(403, post.status());
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), "http://127.0.0.1:" + origin.port()
                    + "/hello").status());

            AccessRecord refused = tollgate.awaitRows(2).stream().filter(r -> r.method().equals("POST"))
                    .findFirst().orElseThrow();
            assertEquals(Outcome.DENIED, refused.outcome());
            assertEquals("method POST is not in allowMethods [GET, HEAD]", refused.reason());
            assertEquals(1, origin.hits("/hello"), "only the GET reached the origin");
        }
    }

    /**
     * A client may send its ClientHello in the same segment as its CONNECT, before the 200 (Jetty hands those bytes
     * over with the upgrade, not through a read): they are held and judged all the same.
     */
    @Test
    void aClientHelloSentWithTheConnectIsJudgedBeforeAnyOfItIsForwarded() throws Exception {
        ClientTool.assumeInstalled("curl", "curl");
        byte[] hello;
        try (CapturingOrigin origin = CapturingOrigin.clientHellos()) {
            ClientTool.run(dir, Duration.ofSeconds(60), "curl", "-s", "-k", "--max-time", "20", "--noproxy", "*",
                    "https://localhost:" + origin.port() + "/");
            hello = origin.nextHello().record();
        }
        try (EchoOrigin echo = EchoOrigin.start();
             CapturingOrigin capture = CapturingOrigin.clientHellos();
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(echo.port(), capture.port(),
                     "\"tls\": {\"requireSniMatch\": true}"))) {
            try (java.net.Socket socket = connectWith(tollgate.port(), "localhost:" + echo.port(), hello)) {
                assertTrue(RawHttpConnection.readHead(socket.getInputStream()).startsWith("HTTP/1.1 200"));
                assertEquals(java.util.HexFormat.of().formatHex(hello), java.util.HexFormat.of().formatHex(
                        socket.getInputStream().readNBytes(hello.length)), "passed on whole once judged");
            }
            try (java.net.Socket socket = connectWith(tollgate.port(), "127.0.0.1:" + capture.port(), hello)) {
                assertTrue(RawHttpConnection.readHead(socket.getInputStream()).startsWith("HTTP/1.1 200"));
                assertEquals(-1, socket.getInputStream().read(), "closed");
            }
            AccessRecord denied = tollgate.awaitRows(1, r -> r.port() == capture.port()).get(0);
            assertEquals(Outcome.DENIED, denied.outcome(), denied::toString);
            assertEquals("tls.requireSniMatch: the SNI localhost is not the CONNECT host 127.0.0.1", denied.reason());
            assertEquals(0, capture.bytesReceived());
            AccessRecord passed = tollgate.awaitRows(1, r -> r.port() == echo.port()).get(0);
            assertEquals(Outcome.OK, passed.outcome(), passed::toString);
            assertEquals("localhost", passed.sni());
        }
    }

    /** Opens a connection to the proxy and writes the CONNECT and {@code payload} in one write. */
    private static java.net.Socket connectWith(int proxyPort, String target, byte[] payload) throws Exception {
        java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), proxyPort);
        socket.setSoTimeout(30_000);
        java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
        request.writeBytes(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        request.writeBytes(payload);
        socket.getOutputStream().write(request.toByteArray());
        socket.getOutputStream().flush();
        return socket;
    }

    private static String listener(int port, String keys) {
        return listener(port, port, keys);
    }

    /** Listener "main" that may reach loopback (as {@link RunningTollgate#loopbackListener}), with {@code keys}. */
    private static String listener(int port, int otherPort, String keys) {
        String loopback = RunningTollgate.loopbackListener(port, otherPort);
        return loopback.substring(0, loopback.length() - 1) + ", " + keys + "}";
    }
}
