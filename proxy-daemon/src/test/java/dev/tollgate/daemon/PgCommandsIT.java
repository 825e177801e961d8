package dev.tollgate.daemon;

import dev.tollgate.testing.PgTestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands on a PostgreSQL store, as child processes as an operator runs them: {@code tollgate sql} reads
 * the fleet's log with the password from {@code store.passwordFile} in a read-only session, and
 * {@code tollgate run} refuses a schema newer than it knows with one line and exit 2.
 */
class PgCommandsIT {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private PgTestDatabase db;
    private Path config;

    @BeforeEach
    void createDatabase() throws Exception {
        db = PgTestDatabase.create();
        Path passwordFile = Files.writeString(dir.resolve("db.password"), db.password() + "\n");
        // The URL without its user and password: they come from store.user and store.passwordFile.
        String url = db.url().replaceAll("\\?.*$", "");
        config = Files.writeString(dir.resolve("tollgate.json"), "{\"nodeName\": \"node-a\", \"stateDir\": \""
                + dir.resolve("state") + "\", \"admin\": {\"port\": 0}, \"store\": {\"url\": \"" + url
                + "\", \"user\": \"" + db.user() + "\", \"passwordFile\": \"" + passwordFile + "\"},"
                + " \"listeners\": [{\"name\": \"main\", \"port\": 0}]}");
    }

    @AfterEach
    void dropDatabase() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void sqlReadsTheFleetsLogWithThePasswordFileAndRefusesToWrite() throws Exception {
        TollgateProcess daemon = TollgateProcess.launch(dir, "run", "--config", config.toString());
        try {
            daemon.awaitLine(Pattern.compile("node node-a - started$"), DEADLINE);
        } finally {
            daemon.sigterm();
            assertEquals(0, daemon.awaitExit(DEADLINE), daemon.output());
        }
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO access_log (ts, node, listener, kind, outcome) VALUES"
                    + " (NOW(), 'node-b', 'main', 'FORWARD', 'OK'), (NOW(), 'node-c', 'main', 'TUNNEL', 'OK')");
        }

        TollgateProcess read = TollgateProcess.launch(dir, "sql", "--config", config.toString(), "--format", "csv",
                "-c", "SELECT node, COUNT(*) AS n FROM access_log GROUP BY node ORDER BY node");
        assertEquals(0, read.awaitExit(DEADLINE), read.output());
        assertEquals("node,n|node-b,1|node-c,1", String.join("|", read.stdout()), read.output());

        TollgateProcess write = TollgateProcess.launch(dir, "sql", "--config", config.toString(), "-c",
                "DELETE FROM access_log");
        assertEquals(1, write.awaitExit(DEADLINE), write.output());
        assertTrue(String.join("\n", write.stderr()).contains("read-only transaction"), write.output());
        assertFalse(write.output().contains(db.password() + "\n"), write.output());
    }

    @Test
    void runRefusesASchemaNewerThanItKnowsWithOneLineAndExitTwo() throws Exception {
        TollgateProcess first = TollgateProcess.launch(dir, "run", "--config", config.toString());
        try {
            first.awaitLine(Pattern.compile("node node-a - started$"), DEADLINE);
        } finally {
            first.sigterm();
            assertEquals(0, first.awaitExit(DEADLINE), first.output());
        }
        String known;
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            // The newest version the first start applied: what this build knows, as the refusal must say.
            try (ResultSet newest = s.executeQuery("SELECT MAX(CAST(version AS INT)) FROM flyway_schema_history")) {
                assertTrue(newest.next());
                known = String.valueOf(newest.getInt(1));
            }
            s.executeUpdate("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
                    + " checksum, installed_by, execution_time, success) VALUES (100, '99', 'from the future', 'SQL',"
                    + " 'V99__from_the_future.sql', 1, 'tollgate', 1, TRUE)");
        }

        TollgateProcess refused = TollgateProcess.launch(dir, "run", "--config", config.toString());

        assertEquals(2, refused.awaitExit(DEADLINE), refused.output());
        String reason = refused.stderr().stream().filter(l -> l.startsWith("tollgate: ")).findFirst().orElse("");
        assertTrue(reason.contains("schema is at version 99") && reason.contains("(up to version " + known + ")"),
                refused.output());
    }
}
