package dev.tollgate.daemon;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AuditorSqlServer;
import dev.tollgate.store.CheckpointKey;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import org.h2.api.ErrorCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The auditors' SQL port attacked as any local user would (issue #19): a daemon in a child process, its H2 TCP
 * server on 127.0.0.1, and JDBC connections from this test process with every account and trick at hand.
 * Before the issue, the owner {@code TOLLGATE} logged in there with the empty password and ran Java inside the
 * daemon with {@code CREATE ALIAS}.
 */
class SqlPortAttackIT {

    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final Pattern SQL_LISTENING = Pattern.compile(
            "sql - read-only SQL for auditors on 127\\.0\\.0\\.1:(\\d+)$");
    private static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern STARTED = Pattern.compile(" - started$");
    private static final String CONFIGURED_PASSWORD = "the-password-in-tollgate-json";
    private static final int REFUSED_REQUESTS = 3;

    @TempDir
    static Path dir;

    private static TollgateProcess daemon;
    private static int sqlPort;
    private static int proxyPort;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = start(dir.resolve("state"), CONFIGURED_PASSWORD);
        sqlPort = Integer.parseInt(daemon.awaitLine(SQL_LISTENING, DEADLINE).group(1));
        proxyPort = Integer.parseInt(daemon.awaitLine(LISTENING, DEADLINE).group(1));
        daemon.awaitLine(STARTED, DEADLINE);
        // Rows to guard: requests to this host, refused by the default policy.
        for (int i = 0; i < REFUSED_REQUESTS; i++) {
            try (RawHttpConnection connection = RawHttpConnection.open(proxyPort)) {
                connection.send("GET http://127.0.0.1:9/" + i + " HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                        + "Connection: close\r\n\r\n");
                assertEquals(403, connection.readResponse().status());
            }
        }
        Poll.until("the refusals' rows", () -> count() >= REFUSED_REQUESTS);
    }

    @AfterAll
    static void stopDaemon() {
        if (daemon != null) {
            daemon.kill();
        }
    }

    @Test
    void noAccountButTheAuditorLogsInNotEvenTheOwnerWithItsOwnPassword() throws Exception {
        String ownerPassword = Files.readString(dir.resolve("state").resolve(AccessLog.OWNER_PASSWORD_FILE)).trim();
        for (String password : List.of("", CONFIGURED_PASSWORD, ownerPassword)) {
            for (String user : List.of("tollgate", "TOLLGATE", "sa")) {
                SQLException refused = assertThrows(SQLException.class,
                        () -> DriverManager.getConnection(url(), user, password).close(), user + " / " + password);
                assertEquals(ErrorCode.WRONG_USER_OR_PASSWORD, refused.getErrorCode(), refused.getMessage());
            }
        }
    }

    @Test
    void h2sOwnServerBehindTheGateOpensNothingWithoutItsKeyOnAnyPortOfTheDaemon() throws Exception {
        String ownerPassword = Files.readString(dir.resolve("state").resolve(AccessLog.OWNER_PASSWORD_FILE)).trim();
        String database = dir.resolve("state").resolve("access").toString();
        List<Integer> ports = listeningPorts(daemon.pid());
        assertTrue(ports.size() >= 4, "proxy, admin, the gate and H2's own server: " + ports);
        int triedBehind = 0;
        for (int port : ports) {
            if (port == sqlPort || port == proxyPort) {
                continue; // the proxy would log the attempt as a bad request: a row the other tests count
            }
            triedBehind++;
            for (String user : List.of("TOLLGATE", AuditorSqlServer.USER)) {
                String password = user.equals("TOLLGATE") ? ownerPassword : auditorPassword();
                String url = "jdbc:h2:tcp://127.0.0.1:" + port + "/" + database + ";NETWORK_TIMEOUT=5000";
                assertThrows(SQLException.class, () -> DriverManager.getConnection(url, user, password).close(),
                        url + " as " + user);
            }
        }
        assertTrue(triedBehind >= 2, "the admin port and H2's own: " + ports);
        assertEquals(REFUSED_REQUESTS, count(), "the gate still serves the auditor");
    }

    @Test
    void garbageAndOversizedFirstMessagesEndTheirConnectionAndNothingElse() throws Exception {
        byte[][] openings = {
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                {0, 0, 0, 17, 0, 0, 0, 20, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // a 2 G-char name
                {0, 0, 0, 17, 0, 0, 0, 20, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0}, // a negative length
        };
        for (byte[] opening : openings) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", sqlPort)) {
                socket.setSoTimeout(30_000);
                socket.getOutputStream().write(opening);
                socket.getOutputStream().flush();
                byte[] rest = socket.getInputStream().readAllBytes();
                assertTrue(rest.length < 64, "answered " + rest.length + " bytes");
            }
        }
        assertTrue(daemon.isAlive(), daemon.output());
        assertEquals(REFUSED_REQUESTS, count());
    }

    @Test
    void theAuditorCanNeitherWriteNorRunCodeNorTouchFiles() throws Exception {
        Path out = Files.createDirectory(dir.resolve("out"));
        Path script = Files.writeString(dir.resolve("evil.sql"), "DELETE FROM access_log;\n");
        String ownerPasswordFile = dir.resolve("state").resolve(AccessLog.OWNER_PASSWORD_FILE).toString();
        String ownerPasswordBefore = Files.readString(Path.of(ownerPasswordFile));
        List<String> attacks = List.of(
                "CREATE ALIAS PID AS 'long pid() { return ProcessHandle.current().pid(); }'",
                "CREATE ALIAS GETPROP FOR \"java.lang.System.getProperty\"",
                "CALL PID()",
                "SELECT FILE_READ('" + ownerPasswordFile + "', NULL)",
                "CALL FILE_WRITE(X'41', '" + out.resolve("written") + "')",
                "CALL CSVWRITE('" + out.resolve("rows.csv") + "', 'SELECT * FROM access_log')",
                "SELECT * FROM CSVREAD('" + ownerPasswordFile + "')",
                "SCRIPT TO '" + out.resolve("dump.sql") + "'",
                "RUNSCRIPT FROM '" + script + "'",
                "BACKUP TO '" + out.resolve("backup.zip") + "'",
                "CALL LINK_SCHEMA('LINKED', '', 'jdbc:h2:mem:x', 'sa', '', 'PUBLIC')",
                "CREATE LINKED TABLE LINKED('org.h2.Driver', 'jdbc:h2:mem:x', 'sa', '', 'T')",
                "CREATE TRIGGER T BEFORE INSERT ON access_log CALL \"java.lang.Object\"",
                "INSERT INTO access_log (ts, node, listener, kind, outcome) VALUES (CURRENT_TIMESTAMP, 'x', 'main',"
                        + " 'FORWARD', 'OK')",
                "UPDATE access_log SET status = 200",
                "DELETE FROM access_log",
                "TRUNCATE TABLE access_log",
                "DROP TABLE access_log",
                "ALTER TABLE access_log ADD COLUMN evil INT",
                "CREATE TABLE evidence (id INT)",
                "CREATE USER EVIL PASSWORD 'evil' ADMIN",
                "ALTER USER TOLLGATE SET PASSWORD 'mine'",
                "ALTER USER AUDITOR ADMIN TRUE",
                "GRANT ALL ON access_log TO AUDITOR",
                "SET EXCLUSIVE 1",
                "SHUTDOWN");
        List<String> accepted = new ArrayList<>();
        try (Connection auditor = asAuditor(); Statement sql = auditor.createStatement()) {
            for (String attack : attacks) {
                try {
                    sql.execute(attack);
                    accepted.add(attack);
                } catch (SQLException expected) {
                    // refused, as it should be
                }
            }
        }

        assertEquals(List.of(), accepted, "statements the auditor was allowed to run");
        assertEquals(REFUSED_REQUESTS, count(), "rows changed");
        try (Stream<Path> written = Files.list(out)) {
            assertEquals(List.of(), written.toList(), "files written through SQL");
        }
        assertEquals(ownerPasswordBefore, Files.readString(Path.of(ownerPasswordFile)));
        assertTrue(daemon.isAlive(), daemon.output());
    }

    @Test
    void noOtherDatabaseCanBeOpenedOrCreatedThroughTheServer() throws Exception {
        String password = auditorPassword();
        Path state = dir.resolve("state");
        for (String database : List.of(
                "/" + dir.resolve("elsewhere"),
                "/" + state.resolve("new-one"),
                "/" + state + "/../../../tmp/escape",
                "mem:scratch",
                "nio:" + state.resolve("other"))) {
            String url = "jdbc:h2:tcp://127.0.0.1:" + sqlPort + "/" + database;
            for (String user : List.of("AUDITOR", "sa")) {
                assertThrows(SQLException.class, () -> DriverManager.getConnection(url, user, password).close(),
                        url + " as " + user);
            }
        }
        try (Stream<Path> files = Files.list(state)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("new-one")), "a database was made");
        }
    }

    @Test
    void anAuditorWhoChangesTheSharedPasswordLocksNobodyOut() throws Exception {
        try (Connection auditor = asAuditor(); Statement sql = auditor.createStatement()) {
            // H2 lets any user change its own password: this cannot be refused, only undone, before the next login.
            sql.execute("ALTER USER AUDITOR SET PASSWORD 'locked-out-everyone-else'");
            try (Connection next = asAuditor()) {
                assertTrue(next.isValid(5), "the next auditor's login, at once");
            }
        }

        assertThrows(SQLException.class,
                () -> DriverManager.getConnection(url(), "AUDITOR", "locked-out-everyone-else").close());
        daemon.awaitLine(Pattern.compile("password had been changed by an SQL session"), DEADLINE);
    }

    @Test
    void everySecretInTheStateDirectoryHasItsModeAfterTheFirstStart() throws Exception {
        Path state = dir.resolve("state");
        assertMode(state, "rwx------");
        assertMode(state.resolve(AccessLog.OWNER_PASSWORD_FILE), "rw-------");
        assertMode(state.resolve("admin.token"), "rw-------");
        assertMode(state.resolve("auditor.token"), "rw-r-----");
        assertMode(state.resolve(AuditorSqlServer.PASSWORD_FILE), "rw-r-----");
        // The key that signs the chain's checkpoints, and its public half, which verify reads as anyone.
        assertMode(state.resolve(CheckpointKey.PRIVATE_FILE), "rw-------");
        assertMode(state.resolve(CheckpointKey.PUBLIC_FILE), "rw-r--r--");
        // The audit journal: every column of every row, and what it holds is stored at the next start.
        assertMode(state.resolve("journal"), "rwx------");
        try (Stream<Path> segments = Files.list(state.resolve("journal"))) {
            List<Path> files = segments.toList();
            assertTrue(!files.isEmpty(), "a journal segment");
            for (Path segment : files) {
                assertMode(segment, "rw-------");
            }
        }
    }

    @Test
    void aDatabaseMadeBeforeIssue19IsClosedToItsEmptyOwnerPasswordByTheFirstStart() throws Exception {
        Path state = Files.createDirectories(dir.resolve("upgraded-state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        // The store module's fixture (its README says how it was made); tests run in their module's directory.
        Files.copy(Path.of("../proxy-store/src/test/resources/upgrade/access-v6-empty-owner-password.mv.db"),
                state.resolve("access.mv.db"));
        TollgateProcess upgraded = start(state, ""); // the default store.password it was made with
        try {
            int port = Integer.parseInt(upgraded.awaitLine(SQL_LISTENING, DEADLINE).group(1));
            upgraded.awaitLine(STARTED, DEADLINE);
            String url = AuditorSqlServer.clientUrl("jdbc:h2:file:" + state.resolve("access"), port);

            SQLException refused = assertThrows(SQLException.class,
                    () -> DriverManager.getConnection(url, "tollgate", "").close());
            assertEquals(ErrorCode.WRONG_USER_OR_PASSWORD, refused.getErrorCode(), refused.getMessage());
            assertMode(state.resolve(AccessLog.OWNER_PASSWORD_FILE), "rw-------");
            try (Connection auditor = DriverManager.getConnection(url, "AUDITOR",
                    Files.readString(state.resolve(AuditorSqlServer.PASSWORD_FILE)).trim());
                 Statement sql = auditor.createStatement();
                 ResultSet rows = sql.executeQuery("SELECT COUNT(*) FROM access_log WHERE status = 403")) {
                rows.next();
                assertEquals(3, rows.getLong(1), "the rows made before the upgrade");
            }
        } finally {
            upgraded.kill();
        }
    }

    private static TollgateProcess start(Path state, String storePassword) throws IOException {
        Path config = Files.writeString(dir.resolve("tollgate-" + state.getFileName() + ".json"), "{\n"
                + "  \"stateDir\": \"" + state + "\",\n"
                + "  \"admin\": {\"port\": 0},\n"
                + "  \"store\": {\"sqlPort\": 0, \"password\": \"" + storePassword + "\"},\n"
                + "  \"listeners\": [{\"name\": \"main\", \"port\": 0}]\n"
                + "}\n");
        return TollgateProcess.launch(dir, "run", "--config", config.toString());
    }

    private static String url() {
        return AuditorSqlServer.clientUrl("jdbc:h2:file:" + dir.resolve("state").resolve("access"), sqlPort);
    }

    private static String auditorPassword() throws IOException {
        return Files.readString(dir.resolve("state").resolve(AuditorSqlServer.PASSWORD_FILE)).trim();
    }

    private static Connection asAuditor() throws Exception {
        return DriverManager.getConnection(url(), AuditorSqlServer.USER, auditorPassword());
    }

    private static long count() throws Exception {
        try (Connection auditor = asAuditor(); Statement sql = auditor.createStatement();
             ResultSet rows = sql.executeQuery("SELECT COUNT(*) FROM access_log")) {
            rows.next();
            return rows.getLong(1);
        }
    }

    /** The TCP ports process {@code pid} listens on, from /proc: its sockets' inodes matched in net/tcp and tcp6. */
    private static List<Integer> listeningPorts(long pid) throws IOException {
        List<String> inodes = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring("socket:[".length(), target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor was closed while listing
                }
            }
        }
        List<Integer> ports = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table)).subList(1, Files.readAllLines(Path.of(table)).size())) {
                String[] fields = line.trim().split("\\s+");
                boolean listening = fields[3].equals("0A");
                if (listening && inodes.contains(fields[9])) {
                    String local = fields[1];
                    ports.add(Integer.parseInt(local.substring(local.indexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    private static void assertMode(Path path, String mode) throws IOException {
        assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(path)), path.toString());
    }
}
