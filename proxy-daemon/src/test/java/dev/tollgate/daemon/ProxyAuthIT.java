package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Basic proxy authentication against an htpasswd file of bcrypt ({@code $2y$}, as {@code htpasswd -B} writes)
 * entries, for forwarded requests and CONNECT: 407 with the challenge, who is in the row, what never reaches the
 * origin, and a users file changed while the daemon runs.
 */
class ProxyAuthIT {

    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    /** One htpasswd line, hashed the way {@code htpasswd -B -C 4} does. */
    static String htpasswdLine(String user, String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return user + ":" + OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 4) + "\n";
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    private Path users(String... lines) throws Exception {
        Path file = dir.resolve("users");
        Path next = dir.resolve("users.new");
        Files.writeString(next, "# tollgate users\n" + String.join("", lines));
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private RunningTollgate tollgate(Path users, int... connectPorts) throws Exception {
        StringBuilder ports = new StringBuilder();
        for (int port : connectPorts) {
            ports.append(ports.length() == 0 ? "" : ", ").append(port);
        }
        return RunningTollgate.start(dir.resolve("state"), "{\"name\": \"main\", \"port\": 0, \"denyDestinations\":"
                + " [], \"allowLocalHost\": true, \"connectPorts\": [" + ports + "], \"auth\": {\"type\":"
                + " \"basic\", \"usersFile\": \""
                + users + "\"}}");
    }

    private static RawHttpConnection.Response get(RunningTollgate tollgate, WebOrigin origin, String authorization)
            throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n"
                    + (authorization == null ? "" : "Proxy-Authorization: " + authorization + "\r\n")
                    + "Connection: close\r\n\r\n");
            return connection.readResponse();
        }
    }

    @Test
    void rightCredentialsAreForwardedWithTheUserInTheRowAndNoProxyAuthorizationAtTheOrigin() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret"), htpasswdLine("bob", "x")))) {
            RawHttpConnection.Response response = get(tollgate, origin, basic("alice", "s3cret"));

            assertEquals(200, response.status());
            assertEquals("hello", response.bodyText());
            assertNull(origin.receivedHeaders().get(0).get(HttpHeader.PROXY_AUTHORIZATION));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.OK, row.outcome());
            assertEquals("alice", row.username());
        }
    }

    @Test
    void aWrongPasswordIsAnswered407AndRecordedAsAuthFailedWithTheUserButNotThePassword() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")))) {
            RawHttpConnection.Response response = get(tollgate, origin, basic("alice", "guess-1234"));

            assertEquals(407, response.status());
            assertEquals("Basic realm=\"tollgate\"", response.header("Proxy-Authenticate"));
            assertEquals(0, origin.hits("/hello"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.AUTH_FAILED, row.outcome());
            assertEquals(407, row.status());
            assertEquals("alice", row.username());
            assertFalse(row.reason().contains("guess-1234"), row.reason());
            assertFalse(response.bodyText().contains("guess-1234"), response.bodyText());
        }
    }

    @Test
    void anUnknownUserIsAnswered407AndRecordedWithTheNameTried() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")))) {
            RawHttpConnection.Response response = get(tollgate, origin, basic("mallory", "s3cret"));

            assertEquals(407, response.status());
            assertEquals("Basic realm=\"tollgate\"", response.header("Proxy-Authenticate"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.AUTH_FAILED, row.outcome());
            assertEquals("mallory", row.username());
            assertTrue(row.reason().contains("unknown user"), row.reason());
        }
    }

    @Test
    void noCredentialsAreAnswered407AndRecordedAsAuthRequired() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")))) {
            RawHttpConnection.Response response = get(tollgate, origin, null);

            assertEquals(407, response.status());
            assertEquals("Basic realm=\"tollgate\"", response.header("Proxy-Authenticate"));
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.AUTH_REQUIRED, row.outcome());
            assertNull(row.username());
        }
    }

    /** How browsers and {@code curl --proxy-anyauth} go on: the challenge is answered on the same connection. */
    @Test
    void a407KeepsTheConnectionSoThatTheClientAnswersTheChallengeOnIt() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")));
             RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            String request = "GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n";
            connection.send(request + "\r\n");
            RawHttpConnection.Response challenge = connection.readResponse();
            connection.send(request + "Proxy-Authorization: " + basic("alice", "s3cret") + "\r\n\r\n");
            RawHttpConnection.Response answered = connection.readResponse();

            assertEquals(407, challenge.status());
            assertNull(challenge.header("Connection"));
            assertEquals(200, answered.status());
            assertEquals("hello", answered.bodyText());
            assertEquals(List.of(Outcome.AUTH_REQUIRED, Outcome.OK), tollgate.awaitRows(2).stream()
                    .map(AccessRecord::outcome).toList());
        }
    }

    @Test
    void connectWithCredentialsIsTunnelledAndItsRowNamesTheUser() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")), echo.port())) {
            try (RawTunnel tunnel = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(),
                    "Proxy-Authorization: " + basic("alice", "s3cret") + "\r\n")) {
                assertEquals(200, tunnel.status(), tunnel.head());
                assertEquals("ping", tunnel.echo("ping"));
            }
            AccessRecord row = tollgate.awaitRows(1, r -> r.kind() == Kind.TUNNEL).get(0);
            assertEquals(Outcome.OK, row.outcome(), row.reason());
            assertEquals("alice", row.username());
            assertEquals(1, echo.connections().size());
        }
    }

    @Test
    void connectWithoutCredentialsIsAnswered407AndNothingIsDialled() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")), echo.port());
             RawTunnel tunnel = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(), "")) {
            assertEquals(407, tunnel.status());
            assertTrue(tunnel.head().contains("Proxy-Authenticate: Basic realm=\"tollgate\""), tunnel.head());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Kind.TUNNEL, row.kind());
            assertEquals(Outcome.AUTH_REQUIRED, row.outcome());
            assertTrue(echo.connections().isEmpty());
        }
    }

    @Test
    void connectWithAWrongPasswordIsRecordedAsAuthFailed() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")), echo.port());
             RawTunnel tunnel = RawTunnel.open(tollgate.port(), "127.0.0.1:" + echo.port(),
                     "Proxy-Authorization: " + basic("alice", "nope") + "\r\n")) {
            assertEquals(407, tunnel.status());
            AccessRecord row = tollgate.awaitRows(1).get(0);
            assertEquals(Outcome.AUTH_FAILED, row.outcome());
            assertEquals("alice", row.username());
        }
    }

    @Test
    void aUsersFileChangedWhileRunningTakesEffectWithoutARestart() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = tollgate(users(htpasswdLine("alice", "s3cret")))) {
            assertEquals(200, get(tollgate, origin, basic("alice", "s3cret")).status());
            assertEquals(407, get(tollgate, origin, basic("bob", "hunter2")).status());

            users(htpasswdLine("bob", "hunter2"));

            // The file is looked at once a second.
            Poll.forMatch("bob let in (200)", () -> get(tollgate, origin, basic("bob", "hunter2")).status(),
                    status -> status == 200);
            // alice is gone: her cached success does not outlive the file that granted it.
            Poll.forMatch("alice refused (407)", () -> get(tollgate, origin, basic("alice", "s3cret")).status(),
                    status -> status == 407);
        }
    }
}
