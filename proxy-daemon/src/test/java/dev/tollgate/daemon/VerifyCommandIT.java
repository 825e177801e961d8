package dev.tollgate.daemon;

import dev.tollgate.store.CheckpointKey;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tollgate verify} as a child process on the log a real daemon wrote: intact while the daemon runs (read
 * through its SQL server as the auditor) and after it stopped (the file opened directly), then an UPDATE, a
 * DELETE and an INSERT made by hand as the database's owner, each on its own copy of the state directory, each
 * found with exit 1 and the line that names it.
 */
class VerifyCommandIT extends ChildProcessTestBase {

    private static final int REQUESTS = 6;

    @Test
    void verifyPassesOnTheLogTheDaemonWroteAndCatchesAnUpdateADeleteAndAnInsertMadeByHand() throws Exception {
        Path state = dir.resolve("state");
        Path config = writeConfig(state);
        try (WebOrigin origin = WebOrigin.plain()) {
            TollgateProcess daemon = launch("run", "--config", config.toString());
            int proxyPort = Integer.parseInt(daemon.awaitLine(LISTENING, START_DEADLINE).group(1));
            daemon.awaitLine(STARTED, START_DEADLINE);
            HttpClient client = ProxyClient.through(proxyPort);
            for (int i = 0; i < REQUESTS; i++) {
                assertEquals(200, ProxyClient.get(client, origin.url("/hello")).statusCode());
            }

            Finished live = Poll.forMatch(REQUESTS + " rows checked", START_DEADLINE, () -> verify(config),
                    v -> v.stdout().contains(REQUESTS + " rows checked"));
            assertEquals(0, live.exit(), live.output());
            assertTrue(live.stdout().startsWith("verify: intact: " + REQUESTS + " rows checked"), live.output());

            daemon.sigterm();
            assertEquals(0, daemon.awaitExit(EXIT_DEADLINE), daemon.output());
        }
        Finished stopped = verify(config);
        assertEquals(0, stopped.exit(), stopped.output());
        assertTrue(stopped.stdout().contains("intact: " + REQUESTS + " rows checked"), stopped.output());
        assertTrue(stopped.stdout().contains("1 checkpoints verified"), "the stop's: " + stopped.output());
        assertTrue(stopped.stdout().contains("verify: newest checkpoint signed by "), stopped.output());
        String signer = stopped.stdout().replaceAll("(?s).*verify: newest checkpoint signed by ([^:]+):.*", "$1");
        Finished named = verify(config, "--public-key", signer + "=" + state.resolve(CheckpointKey.PUBLIC_FILE));
        assertEquals(0, named.exit(), "the node's key named for it: " + named.output());
        Path strangerKey = newPublicKeyFile(dir.resolve("stranger"));
        Finished wrongKey = verify(config, "--public-key", signer + "=" + strangerKey);
        assertEquals(1, wrongKey.exit(), "another key named for the node: " + wrongKey.output());
        assertTrue(wrongKey.stdout().contains("has a bad signature"), wrongKey.output());
        Finished expectingMore = verify(config, "--expect-checkpoint", "2");
        assertEquals(1, expectingMore.exit(), expectingMore.output());
        assertTrue(expectingMore.stdout().startsWith("verify: NOT INTACT: checkpoints signed by "),
                expectingMore.output());

        Path updated = copyOf(state, "updated");
        sql(updated, "UPDATE access_log SET status = 204 WHERE seq = 3");
        assertBroken(updated, "verify: NOT INTACT: row id " + idOf(updated, 3) + " \\(node [^,]+, seq 3\\) was"
                + " altered: its hash does not match its content");

        Path deleted = copyOf(state, "deleted");
        sql(deleted, "DELETE FROM access_log WHERE seq = 4");
        assertBroken(deleted, "verify: NOT INTACT: rows between seq 4 and 4 of node [^ ]+ were deleted: .*");

        Path inserted = copyOf(state, "inserted");
        sql(inserted, "INSERT INTO access_log (ts, node, listener, kind, outcome, host, seq) SELECT ts, node,"
                + " listener, kind, outcome, 'forged.example', 99 FROM access_log WHERE seq = 1");
        assertBroken(inserted, "verify: NOT INTACT: row id \\d+ \\(node [^,]+, seq 99\\) was inserted: it has no"
                + " chain");
    }

    @Test
    void aBadSinceIsABadCommandLine() throws Exception {
        Finished result = verify(writeConfig(dir.resolve("state")), "--since", "yesterday");

        assertEquals(2, result.exit(), result.output());
        assertTrue(result.stderr().contains("--since: \"yesterday\" is not an ISO time"), result.output());
    }

    @Test
    void aSignerNamedTwiceIsABadCommandLine() throws Exception {
        Path key = newPublicKeyFile(dir.resolve("keys"));
        Finished result = verify(writeConfig(dir.resolve("state")), "--public-key", "node-a=" + key,
                "--public-key", "node-a=" + key);

        assertEquals(2, result.exit(), result.output());
        assertTrue(result.stderr().contains("--public-key: signer \"node-a\" is named twice"), result.output());
    }

    /** Makes a checkpoint key pair in {@code keyDir} and returns its public file. */
    private static Path newPublicKeyFile(Path keyDir) throws IOException {
        CheckpointKey.loadOrCreate(Files.createDirectories(keyDir));
        return keyDir.resolve(CheckpointKey.PUBLIC_FILE);
    }

    private void assertBroken(Path state, String firstLine) throws Exception {
        Finished result = verify(writeConfig(state));
        assertEquals(1, result.exit(), result.output());
        String first = result.stdout().lines().findFirst().orElse("");
        assertTrue(first.matches(firstLine), "first line " + first + " matches " + firstLine);
        assertTrue(result.stdout().lines().skip(1).findFirst().orElse("").matches("verify: \\d+ problems? in all;.*"),
                result.output());
    }

    private Path copyOf(Path state, String name) throws IOException {
        Path copy = dir.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(state)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        return copy;
    }

    private static long idOf(Path state, long seq) throws SQLException {
        try (Connection c = owner(state); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM access_log WHERE seq = " + seq)) {
            assertTrue(rs.next());
            return rs.getLong(1);
        }
    }

    private static void sql(Path state, String statement) throws SQLException {
        try (Connection c = owner(state); Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }

    /** The database's owner, as whoever can read the 0600 password file is. */
    private static Connection owner(Path state) throws SQLException {
        try {
            return DriverManager.getConnection("jdbc:h2:file:" + state.resolve("access"), "tollgate",
                    Files.readString(state.resolve("owner.password")).trim());
        } catch (IOException e) {
            throw new SQLException(e);
        }
    }

    /** {@code tollgate verify --config config args...}, run to its end. */
    private Finished verify(Path config, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("verify", "--config", config.toString()));
        command.addAll(List.of(args));
        return runToEnd(command.toArray(String[]::new));
    }

    /** A config with the state in {@code state}, the SQL server on a free port. */
    private Path writeConfig(Path state) throws IOException {
        return writeConfig(state.getFileName().toString(), state, "{\"sqlPort\": 0}");
    }
}
