package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * "This host" in every spelling is refused on the default policy, through forwarding and CONNECT alike,
 * whatever {@code denyDestinations} says (issue #19: {@code [::]} reached a service on loopback).
 * <p>
 * A trap listens on 127.0.0.1 and ::1 at one port, and is never accepted from: a connection the proxy made to
 * it would wait in its accept queue, where the test looks at the end. The listener's {@code denyDestinations}
 * is empty, so the refusals below come from the built-in rule alone; its {@code allowDestinations} is this
 * host's networks, so a spelling that resolved anywhere else would be refused rather than dialled off the
 * machine.
 */
class ThisHostIT {

    private static ServerSocketChannel trap4;
    private static ServerSocketChannel trap6;
    private static RunningTollgate tollgate;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        trap4 = ServerSocketChannel.open(StandardProtocolFamily.INET);
        trap4.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        trap4.configureBlocking(false);
        trap6 = ServerSocketChannel.open(StandardProtocolFamily.INET6);
        trap6.bind(new InetSocketAddress(InetAddress.getByName("::1"), trap4.socket().getLocalPort()));
        trap6.configureBlocking(false);
        tollgate = RunningTollgate.start(dir, "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [],"
                + " \"allowDestinations\": [\"127.0.0.0/8\", \"0.0.0.0/8\", \"::/128\", \"::1/128\", \"::/96\","
                + " \"64:ff9b::/96\", \"2002::/16\"" + interfaceNetworks() + "],"
                + " \"connectPorts\": [\"1-65535\"]}");
    }

    @AfterAll
    static void stop() throws IOException {
        if (tollgate != null) {
            tollgate.close();
        }
        trap4.close();
        trap6.close();
    }

    /** Spellings that mean this host: refused 403 by the built-in rule, naming it and allowLocalHost. */
    @ParameterizedTest
    @ValueSource(strings = {"[::]", "[0:0:0:0:0:0:0:0]", "[::ffff:0.0.0.0]", "[::ffff:127.0.0.1]", "[::1]",
            "[::127.0.0.1]", "[64:ff9b::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "0.0.0.0", "0",
            "127.0.0.1", "2130706433", "localhost", "LOCALHOST"})
    void aForwardedRequestToThisHostIsRefusedInEverySpelling(String host) throws Exception {
        RawHttpConnection.Response response = forward(host, "");

        assertEquals(403, response.status(), host + ": " + response.bodyText());
        assertTrue(response.bodyText().contains("allowLocalHost is off"), host + ": " + response.bodyText());
        assertNothingReachedTheTrap();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[::]", "[0:0:0:0:0:0:0:0]", "[::ffff:0.0.0.0]", "[::1]", "[::127.0.0.1]",
            "[64:ff9b::127.0.0.1]", "[2002:7f00:1::]", "0.0.0.0", "127.0.0.1", "127.1", "2130706433",
            "localhost"})
    void aConnectToThisHostIsRefusedInEverySpelling(String host) throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("CONNECT " + host + ":" + trapPort() + " HTTP/1.1\r\nHost: " + host + ":" + trapPort()
                    + "\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals(403, response.status(), host + ": " + response.bodyText());
            assertTrue(response.bodyText().contains("allowLocalHost is off"), host + ": " + response.bodyText());
        }
        assertNothingReachedTheTrap();
    }

    /**
     * Spellings that some resolvers read as this host and Java reads as nothing: octal and hex parts (glibc's
     * inet_aton takes them), the short {@code 127.1} and a trailing dot, which Jetty's URI parser does not take
     * as a host (400), and {@code localhost.}, which Java does not resolve (502). Never dialled, never the trap,
     * and always a one-line answer with its row, never Jetty's HTML error page.
     */
    @ParameterizedTest
    @ValueSource(strings = {"0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "017700000001", "127.000.000.001", "127.1",
            "127.0.0.1.", "localhost."})
    void ambiguousSpellingsNeverReachThisHost(String host) throws Exception {
        RawHttpConnection.Response response = forward(host, "");

        assertTrue(response.status() == 400 || response.status() == 403 || response.status() == 502,
                host + ": " + response.status() + " " + response.bodyText());
        assertFalse(response.bodyText().contains("<html"), response.bodyText());
        assertNothingReachedTheTrap();
    }

    @Test
    void theHostsOwnInterfaceAddressIsRefused() throws Exception {
        InetAddress own = nonLoopbackInterfaceAddress();
        assumeTrue(own != null, "this machine has no non-loopback IPv4 interface address");

        RawHttpConnection.Response response = forward(own.getHostAddress(), "");

        assertEquals(403, response.status(), response.bodyText());
        assertTrue(response.bodyText().contains("is this host"), response.bodyText());
        AccessRecord row = tollgate.awaitRows(1, r -> own.getHostAddress().equals(r.host())).get(0);
        assertEquals(Outcome.DENIED, row.outcome());
        assertTrue(row.reason().contains("allowLocalHost is off"), row.reason());
    }

    @Test
    void userinfoInTheTargetDoesNotHideThisHost() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://evil.example@127.0.0.1:" + trapPort() + "/ HTTP/1.1\r\nHost: 127.0.0.1:"
                    + trapPort() + "\r\nConnection: close\r\n\r\n");
            int status = connection.readResponse().status();

            assertTrue(status == 400 || status == 403, "status " + status);
        }
        assertNothingReachedTheTrap();
    }

    @Test
    void aPortWithLeadingZeroesIsStillThisHostsPort() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://127.0.0.1:00" + trapPort() + "/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n");

            assertEquals(403, connection.readResponse().status());
        }
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("CONNECT 127.0.0.1:00" + trapPort() + " HTTP/1.1\r\nHost: x\r\n\r\n");

            assertEquals(403, connection.readResponse().status());
        }
        assertNothingReachedTheTrap();
    }

    @Test
    void aPortOutOfRangeOrSignedIsABadRequest() throws Exception {
        // Jetty reads "+443" as 443 before Tollgate sees the target: that one is refused on 443's merits (403).
        for (String target : List.of("127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:4x3", "[::1]:70000")) {
            try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
                connection.send("CONNECT " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");

                assertEquals(400, connection.readResponse().status(), target);
            }
        }
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://127.0.0.1:99999/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

            assertEquals(400, connection.readResponse().status());
        }
        assertNothingReachedTheTrap();
    }

    @Test
    void connectWithUserinfoIsABadRequest() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("CONNECT user@127.0.0.1:" + trapPort() + " HTTP/1.1\r\nHost: x\r\n\r\n");

            assertEquals(400, connection.readResponse().status());
        }
        assertNothingReachedTheTrap();
    }

    private static RawHttpConnection.Response forward(String host, String extraHeaders) throws IOException {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://" + host + ":" + trapPort() + "/ HTTP/1.1\r\nHost: " + host + ":"
                    + trapPort() + "\r\n" + extraHeaders + "Connection: close\r\n\r\n");
            return connection.readResponse();
        }
    }

    private static int trapPort() {
        return trap4.socket().getLocalPort();
    }

    private static void assertNothingReachedTheTrap() throws IOException {
        assertNull(trap4.accept(), "a connection reached this host over IPv4");
        assertNull(trap6.accept(), "a connection reached this host over IPv6");
    }

    private static String interfaceNetworks() throws IOException {
        InetAddress own = nonLoopbackInterfaceAddress();
        return own == null ? "" : ", \"" + own.getHostAddress() + "/32\"";
    }

    private static InetAddress nonLoopbackInterfaceAddress() throws IOException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address) {
                    return address;
                }
            }
        }
        return null;
    }
}
