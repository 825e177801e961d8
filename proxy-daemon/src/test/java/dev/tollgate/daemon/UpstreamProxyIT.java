package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.RawOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chaining: a Tollgate ("child") whose upstreamProxy is a second in-process Tollgate ("parent") with its own
 * Basic auth. Forwarded requests and CONNECT tunnels go through the parent with the child's credentials for
 * it; noProxy destinations go direct; a parent that refuses or stays silent is a 502 or 504 naming it.
 */
class UpstreamProxyIT {

    @TempDir
    Path dir;

    private RunningTollgate parent() throws Exception {
        Path users = dir.resolve("parent-users");
        Files.writeString(users, ProxyAuthIT.htpasswdLine("gate", "parent-pw"));
        return RunningTollgate.startWithConfig(dir.resolve("parent"), "{\"nodeName\": \"parent\", \"listeners\":"
                + " [{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": [\"1-65535\"],"
                + " \"auth\": {\"type\": \"basic\", \"usersFile\": \"" + users + "\"}}]}");
    }

    private RunningTollgate child(int parentPort, String password, String extra) throws Exception {
        Path passwordFile = dir.resolve("parent.password");
        Files.writeString(passwordFile, password + "\n");
        return RunningTollgate.startWithConfig(dir.resolve("child"), "{\"nodeName\": \"child\", \"listeners\":"
                + " [{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": [\"1-65535\"],"
                + extra + " \"upstreamProxy\": {\"host\": \"127.0.0.1\", \"port\": " + parentPort + ", \"username\":"
                + " \"gate\", \"passwordFile\": \"" + passwordFile + "\", \"noProxy\": [\"localhost\"]}}]}");
    }

    private static RawHttpConnection.Response get(RunningTollgate proxy, String url, String hostHeader)
            throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(proxy.port())) {
            connection.send("GET " + url + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n\r\n");
            return connection.readResponse();
        }
    }

    @Test
    void aGetGoesThroughTheParentWithTheParentsCredentials() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate parent = parent();
             RunningTollgate child = child(parent.port(), "parent-pw", "")) {
            RawHttpConnection.Response response = get(child, origin.base() + "/hello", "127.0.0.1:" + origin.port());

            assertEquals(200, response.status(), response.bodyText());
            assertEquals("hello", response.bodyText());
            assertNull(origin.receivedHeaders().get(0).get(HttpHeader.PROXY_AUTHORIZATION));
            assertEquals("1.1 child, 1.1 parent",
                    String.join(", ", origin.receivedHeaders().get(0).getValuesList(HttpHeader.VIA)));
            AccessRecord atParent = parent.awaitRows(1).get(0);
            assertEquals(Outcome.OK, atParent.outcome(), atParent.reason());
            assertEquals("gate", atParent.username());
            AccessRecord atChild = child.awaitRows(1).get(0);
            assertEquals(Outcome.OK, atChild.outcome(), atChild.reason());
            assertEquals("127.0.0.1", atChild.upstreamAddr());
        }
    }

    @Test
    void aConnectGoesThroughTheParentWithTheParentsCredentials() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate parent = parent();
             RunningTollgate child = child(parent.port(), "parent-pw", "")) {
            try (RawTunnel tunnel = RawTunnel.open(child.port(), "127.0.0.1:" + echo.port(), "")) {
                assertEquals(200, tunnel.status(), tunnel.head());
                assertEquals("through two proxies", tunnel.echo("through two proxies"));
            }
            AccessRecord atParent = parent.awaitRows(1, r -> r.kind() == Kind.TUNNEL).get(0);
            assertEquals("gate", atParent.username());
            assertEquals(echo.port(), atParent.port());
            AccessRecord atChild = child.awaitRows(1, r -> r.kind() == Kind.TUNNEL).get(0);
            assertEquals(Outcome.OK, atChild.outcome(), atChild.reason());
            assertEquals(echo.port(), atChild.port());
        }
    }

    /** A rotated parent password applies without a restart: the file is looked at again once a second. */
    @Test
    void aRewrittenPasswordFileIsUsedWithoutARestart() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate parent = parent();
             RunningTollgate child = child(parent.port(), "old-pw", "")) {
            String url = origin.base() + "/hello";
            String host = "127.0.0.1:" + origin.port();
            assertEquals(502, get(child, url, host).status(), "the parent refuses the old password");

            Files.writeString(dir.resolve("parent.password"), "parent-pw\n");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            int status;
            while ((status = get(child, url, host).status()) != 200 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(200, status, "the new password was not picked up");
        }
    }

    @Test
    void noProxyDestinationsGoDirectForGetAndConnect() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             EchoOrigin echo = EchoOrigin.start();
             RunningTollgate parent = parent();
             RunningTollgate child = child(parent.port(), "parent-pw", "")) {
            RawHttpConnection.Response response = get(child, "http://localhost:" + origin.port() + "/hello",
                    "localhost:" + origin.port());
            assertEquals(200, response.status(), response.bodyText());
            try (RawTunnel tunnel = RawTunnel.open(child.port(), "localhost:" + echo.port(), "")) {
                assertEquals(200, tunnel.status(), tunnel.head());
                assertEquals("direct", tunnel.echo("direct"));
            }

            child.awaitRows(2);
            assertEquals(1, origin.hits("/hello"));
            assertTrue(parent.rows().isEmpty(), () -> "the parent saw traffic: " + rowsOf(parent));
            assertEquals(1, origin.receivedHeaders().get(0).getValuesList(HttpHeader.VIA).size());
        }
    }

    @Test
    void aParentThatRejectsTheCredentialsIsA502NamingTheParent() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             EchoOrigin echo = EchoOrigin.start();
             RunningTollgate parent = parent();
             RunningTollgate child = child(parent.port(), "wrong-pw", "")) {
            RawHttpConnection.Response response = get(child, origin.base() + "/hello", "127.0.0.1:" + origin.port());
            assertEquals(502, response.status());
            assertTrue(response.bodyText().contains("refused our credentials"), response.bodyText());
            try (RawTunnel tunnel = RawTunnel.open(child.port(), "127.0.0.1:" + echo.port(), "")) {
                assertEquals(502, tunnel.status(), tunnel.head());
            }

            for (AccessRecord row : child.awaitRows(2)) {
                assertEquals(Outcome.UPSTREAM_UNREACHABLE, row.outcome(), row::toString);
                assertTrue(row.reason().contains("parent proxy 127.0.0.1:" + parent.port()), row.reason());
            }
            assertEquals(0, origin.hits("/hello"));
        }
    }

    @Test
    void aParentThatRefusesConnectionsIsA502() throws Exception {
        int closedPort = RawOrigin.closedPort();
        try (WebOrigin origin = WebOrigin.plain();
             EchoOrigin echo = EchoOrigin.start();
             RunningTollgate child = child(closedPort, "parent-pw", "")) {
            assertEquals(502, get(child, origin.base() + "/hello", "127.0.0.1:" + origin.port()).status());
            try (RawTunnel tunnel = RawTunnel.open(child.port(), "127.0.0.1:" + echo.port(), "")) {
                assertEquals(502, tunnel.status(), tunnel.head());
            }

            for (AccessRecord row : child.awaitRows(2)) {
                assertEquals(Outcome.UPSTREAM_UNREACHABLE, row.outcome(), row::toString);
                assertTrue(row.reason().contains("parent proxy 127.0.0.1:" + closedPort), row.reason());
            }
        }
    }

    @Test
    void aParentThatNeverAnswersIsA504() throws Exception {
        // Accepted by the kernel's backlog, never read or answered.
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress(RawHttpConnection.loopback(), 0), 50);
            try (WebOrigin origin = WebOrigin.plain();
                 EchoOrigin echo = EchoOrigin.start();
                 RunningTollgate child = child(silent.getLocalPort(), "parent-pw",
                         " \"connectTimeoutMs\": 1000, \"idleTimeoutMs\": 1000,")) {
                assertEquals(504, get(child, origin.base() + "/hello", "127.0.0.1:" + origin.port()).status());
                try (RawTunnel tunnel = RawTunnel.open(child.port(), "127.0.0.1:" + echo.port(), "")) {
                    assertEquals(504, tunnel.status(), tunnel.head());
                }

                for (AccessRecord row : child.awaitRows(2)) {
                    assertEquals(Outcome.UPSTREAM_TIMEOUT, row.outcome(), row::toString);
                    assertTrue(row.reason().contains("parent proxy 127.0.0.1:" + silent.getLocalPort()),
                            row.reason());
                }
            }
        }
    }

    private static String rowsOf(RunningTollgate tollgate) {
        try {
            return tollgate.rows().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
