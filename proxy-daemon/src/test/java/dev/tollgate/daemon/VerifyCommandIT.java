package dev.tollgate.daemon;

import dev.tollgate.testing.Poll;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code tollgate verify} as a child process on the log a real daemon wrote: intact while the daemon runs (read
 * through its SQL server as the auditor) and after it stopped (the file opened directly), then an UPDATE, a
 * DELETE and an INSERT made by hand as the database's owner, each on its own copy of the state directory, each
 * found with exit 1 and the line that names it.
 */
class VerifyCommandIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(60);
    private static final Duration EXIT_DEADLINE = Duration.ofSeconds(60);
    private static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern STARTED = Pattern.compile(" - started$");
    private static final int REQUESTS = 6;

    @TempDir
    Path dir;

    private final List<TollgateProcess> children = new ArrayList<>();
    private final List<Process> oneShots = new ArrayList<>();

    @AfterEach
    void killChildren() throws InterruptedException {
        for (TollgateProcess child : children) {
            child.kill();
        }
        for (Process process : oneShots) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

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
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(origin.base()
                        + "/hello")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
            }

            Verify live = Poll.forMatch(REQUESTS + " rows checked", START_DEADLINE, () -> verify(config),
                    v -> v.stdout().contains(REQUESTS + " rows checked"));
            assertEquals(0, live.exit(), live.output());
            assertTrue(live.stdout().startsWith("verify: intact: " + REQUESTS + " rows checked"), live.output());

            daemon.sigterm();
            assertEquals(0, daemon.awaitExit(EXIT_DEADLINE), daemon.output());
        }
        Verify stopped = verify(config);
        assertEquals(0, stopped.exit(), stopped.output());
        assertTrue(stopped.stdout().contains("intact: " + REQUESTS + " rows checked"), stopped.output());
        assertTrue(stopped.stdout().contains("1 checkpoints verified"), "the stop's: " + stopped.output());
        assertTrue(stopped.stdout().contains("verify: newest checkpoint signed by "), stopped.output());
        Verify expectingMore = verify(config, "--expect-checkpoint", "2");
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
        Verify result = verify(writeConfig(dir.resolve("state")), "--since", "yesterday");

        assertEquals(2, result.exit(), result.output());
        assertTrue(result.stderr().contains("--since: \"yesterday\" is not an ISO time"), result.output());
    }

    private void assertBroken(Path state, String firstLine) throws Exception {
        Verify result = verify(writeConfig(state));
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

    private Path writeConfig(Path state) throws IOException {
        Path config = dir.resolve("tollgate-" + state.getFileName() + ".json");
        Files.writeString(config, "{\n"
                + "  \"stateDir\": \"" + state + "\",\n"
                + "  \"admin\": {\"port\": 0},\n"
                + "  \"store\": {\"sqlPort\": 0},\n"
                + "  \"listeners\": [{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [],"
                + " \"allowLocalHost\": true}]\n"
                + "}\n");
        return config;
    }

    private TollgateProcess launch(String... args) throws IOException {
        TollgateProcess child = TollgateProcess.launch(dir, args);
        children.add(child);
        return child;
    }

    private record Verify(int exit, String stdout, String stderr) {
        String output() {
            return "exit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    /** {@code tollgate verify --config config args...}, run to its end, its output in files. */
    private Verify verify(Path config, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("verify", "--config", config.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "verify-", ".out");
        Path err = Files.createTempFile(dir, "verify-", ".err");
        Process process = new ProcessBuilder(TollgateProcess.command(command.toArray(String[]::new)))
                .directory(dir.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        oneShots.add(process);
        process.getOutputStream().close();
        if (!process.waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("tollgate " + command + " did not exit within " + EXIT_DEADLINE);
        }
        return new Verify(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
