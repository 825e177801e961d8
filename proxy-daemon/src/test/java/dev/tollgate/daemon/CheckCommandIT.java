package dev.tollgate.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.daemon.cli.CheckCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tollgate check} as an operator runs it before a restart: its own JVM, its exit code, its stdout (the
 * effective config as JSON) and its one-line reason on stderr, and what it leaves untouched.
 */
class CheckCommandIT extends ChildProcessTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<ServerSocket> held = new ArrayList<>();
    private int configs;

    @AfterEach
    void cleanUp() throws Exception {
        for (ServerSocket socket : held) {
            socket.close();
        }
    }

    @Test
    void aGoodFilePrintsTheEffectiveConfigWithSecretsMaskedAndBindsNothing() throws Exception {
        // The ports the file names stay held by this test: a check that bound any of them would fail with exit 1.
        int proxyPort = holdPort();
        int adminPort = holdPort();
        int sqlPort = holdPort();
        Path stateDir = dir.resolve("state");
        Path config = write("""
                {
                    "stateDir": "%s",
                    "listeners": [{"name": "main", "port": %d, "connectPorts": [443, "8443-8445"]}],
                    "admin": {"port": %d},
                    "store": {"password": "s3cret-db", "sqlPort": %d},
                }
                """.formatted(stateDir, proxyPort, adminPort, sqlPort));

        TollgateProcess child = launch("check", "--config", config.toString());

        assertEquals(0, child.awaitExit(EXIT_DEADLINE), child.output());
        assertEquals(List.of(), child.stderr(), child.output());
        String out = String.join("\n", child.stdout());
        assertFalse(out.contains("s3cret-db"), out);
        JsonNode effective = JSON.readTree(out);
        assertEquals(CheckCommand.MASK, effective.at("/store/password").asText(), out);
        assertEquals("main", effective.at("/listeners/0/name").asText(), out);
        assertEquals(proxyPort, effective.at("/listeners/0/port").asInt(), out);
        assertEquals(adminPort, effective.at("/admin/port").asInt(), out);
        assertEquals(sqlPort, effective.at("/store/sqlPort").asInt(), out);
        // defaults filled in, as run would use them
        assertEquals(10_000, effective.at("/drainTimeoutMs").asLong(), out);
        assertEquals("refuse", effective.at("/store/onOverflow").asText(), out);
        assertEquals("jdbc:h2:file:" + stateDir.resolve("access"), effective.at("/store/url").asText(), out);
        assertFalse(Files.exists(stateDir), "check created the state directory");
    }

    @Test
    void withoutConfigItPrintsTheEmbeddedDefaultsAndCreatesNoStateDirectory() throws Exception {
        TollgateProcess child = launch("check");

        assertEquals(0, child.awaitExit(EXIT_DEADLINE), child.output());
        JsonNode effective = JSON.readTree(String.join("\n", child.stdout()));
        assertEquals(3128, effective.at("/listeners/0/port").asInt(), child.output());
        assertEquals("./tollgate-data", effective.at("/stateDir").asText(), child.output());
        assertEquals("", effective.at("/store/password").asText(), "an empty password is shown as not set");
        assertFalse(Files.exists(dir.resolve("tollgate-data")), "check created ./tollgate-data");
    }

    @Test
    void aPasswordInsideTheStoreUrlIsMasked() throws Exception {
        Path config = write("{\"store\": {\"url\": \"jdbc:h2:file:/tmp/x;USER=a;PASSWORD=hunter2;MODE=LEGACY\"}}");

        TollgateProcess child = launch("check", "--config", config.toString());

        assertEquals(0, child.awaitExit(EXIT_DEADLINE), child.output());
        JsonNode effective = JSON.readTree(String.join("\n", child.stdout()));
        assertEquals("jdbc:h2:file:/tmp/x;USER=a;PASSWORD=" + CheckCommand.MASK + ";MODE=LEGACY",
                effective.at("/store/url").asText());
    }

    @Test
    void aPortOutOfRangeExitsTwoNamingFileKeyValueAndLimit() throws Exception {
        Path config = write("{\"listeners\": [{\"name\": \"main\", \"port\": 70000}]}");

        assertOneLineError(config, config + ": listeners[0].port: 70000 is out of range (0 to 65535)");
    }

    @Test
    void aRateLimitOutOfRangeExitsTwoNamingFileKeyValueAndLimit() throws Exception {
        Path config = write("{\"listeners\": [{\"name\": \"main\", \"limits\": {\"perClient\":"
                + " {\"requestsPerMinute\": -1}}}]}");

        assertOneLineError(config, config + ": listeners[0].limits.perClient.requestsPerMinute: -1 is out of range"
                + " (0 to 60000000)");
    }

    @Test
    void aCheckpointIntervalOutOfRangeExitsTwoNamingFileKeyValueAndLimit() throws Exception {
        Path config = write("{\"store\": {\"checkpointIntervalSeconds\": 0}}");

        assertOneLineError(config, config + ": store.checkpointIntervalSeconds: 0 is out of range (1 to 86400)");
    }

    @Test
    void anUnknownOverflowPolicyExitsTwoNamingTheChoices() throws Exception {
        Path config = write("{\"store\": {\"onOverflow\": \"drop\"}}");

        String line = assertOneLineError(config, config + ": store.onOverflow: \"drop\" is not one of");
        assertTrue(line.contains("\"refuse\"") && line.contains("\"forward\""), line);
    }

    @Test
    void aValueOfTheWrongTypeExitsTwo() throws Exception {
        Path config = write("{\"drainTimeoutMs\": \"ten seconds\"}");

        assertOneLineError(config, config + ": drainTimeoutMs:");
    }

    @Test
    void anUnknownKeyExitsTwoListingTheKnownKeys() throws Exception {
        Path config = write("{\"listners\": []}");

        String line = assertOneLineError(config, config + ": unknown key \"listners\"");
        assertTrue(line.contains("listeners"), line);
    }

    @Test
    void aUsersFileThatCannotBeReadExitsTwoNamingTheListenerKeyAndFile() throws Exception {
        Path users = dir.resolve("no-such-users");
        Path config = write("{\"listeners\": [{\"name\": \"main\", \"port\": 0, \"auth\": {\"type\": \"basic\","
                + " \"usersFile\": \"" + users + "\"}}]}");

        assertOneLineError(config, config + ": listeners[0].auth.usersFile: " + users + " cannot be read");
    }

    @Test
    void anInterceptTrustBundleThatCannotBeReadExitsTwoNamingTheListenerKeyAndFile() throws Exception {
        Path bundle = dir.resolve("no-such-bundle.pem");
        Path config = write("{\"listeners\": [{\"name\": \"main\", \"port\": 0, \"intercept\": {\"enabled\": true,"
                + " \"trustBundle\": \"" + bundle + "\"}}]}");

        assertOneLineError(config, config + ": listeners[0].intercept.trustBundle: " + bundle + " cannot be read");
    }

    @Test
    void aMissingFileExitsTwo() throws Exception {
        Path config = dir.resolve("nowhere.json");

        assertOneLineError(config, config + ": no such file");
    }

    @Test
    void aStateDirectoryOtherAccountsMayWriteExitsTwoAsRunWouldRefuseIt() throws Exception {
        Path state = Files.createDirectory(dir.resolve("shared-state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path config = write("{\"stateDir\": \"" + state + "\"}");

        String line = assertOneLineError(config, config + ": stateDir: " + state
                + " may be written by other accounts (rwxrwxrwx)");
        assertTrue(line.contains("chmod go-w " + state), line);
    }

    /** Runs check on a bad file: exit 2, nothing on stdout, one stderr line starting with the expected text. */
    private String assertOneLineError(Path config, String expectedStart) throws Exception {
        TollgateProcess child = launch("check", "--config", config.toString());

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        assertEquals(List.of(), child.stdout(), child.output());
        assertEquals(1, child.stderr().size(), child.output());
        String line = child.stderr().get(0);
        assertTrue(line.startsWith("tollgate: " + expectedStart), () -> "expected \"tollgate: " + expectedStart
                + "...\", got: " + line);
        assertFalse(Files.exists(dir.resolve("tollgate-data")), "check created ./tollgate-data");
        return line;
    }

    private int holdPort() throws Exception {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        held.add(socket);
        return socket.getLocalPort();
    }

    private Path write(String json) throws Exception {
        return Files.writeString(dir.resolve("tollgate-" + configs++ + ".json"), json);
    }
}
