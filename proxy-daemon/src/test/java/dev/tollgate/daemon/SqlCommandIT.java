package dev.tollgate.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.testing.CsvRecords;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code tollgate sql} against a running daemon, both as child processes as an operator runs them: read-only
 * SQL through the daemon's H2 TCP server on 127.0.0.1, as the auditor. All traffic stays on 127.0.0.1.
 */
class SqlCommandIT extends ChildProcessTestBase {

    /** A deadline only, never asserted as a speed. */
    private static final Duration ROWS_DEADLINE = Duration.ofSeconds(60);
    private static final String PERMISSION_DENIED = "tollgate: permission denied: the auditor may only read";
    private static final ObjectMapper JSON = new ObjectMapper();

    // ---- reading ---------------------------------------------------------------------------------------------

    @Test
    void sqlCountsTheRowsOfRequestsSentThroughTheProxyWhileTheDaemonKeepsWriting() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            Running tollgate = startDaemon();
            HttpClient client = ProxyClient.through(tollgate.proxyPort());
            for (int i = 0; i < 5; i++) {
                assertEquals(200, ProxyClient.get(client, origin.base() + "/hello").statusCode());
            }
            assertEquals(5, awaitCount(tollgate, 5));

            AtomicBoolean keepSending = new AtomicBoolean(true);
            AtomicInteger answered = new AtomicInteger(5);
            ExecutorService sender = Executors.newSingleThreadExecutor();
            List<Long> countsDuringLoad = new ArrayList<>();
            try {
                Future<?> load = sender.submit(() -> {
                    while (keepSending.get()) {
                        assertEquals(200, ProxyClient.get(client, origin.base() + "/hello").statusCode());
                        answered.incrementAndGet();
                    }
                    return null;
                });
                // Each query is a whole JVM, so the load runs on meanwhile: poll until rows written during the
                // load are read, with a deadline.
                long deadline = System.nanoTime() + ROWS_DEADLINE.toNanos();
                do {
                    countsDuringLoad.add(count(tollgate));
                } while (countsDuringLoad.get(countsDuringLoad.size() - 1) <= 5 && System.nanoTime() < deadline
                        && !load.isDone());
                keepSending.set(false);
                load.get();
            } finally {
                sender.shutdownNow();
            }

            for (int i = 1; i < countsDuringLoad.size(); i++) {
                assertTrue(countsDuringLoad.get(i) >= countsDuringLoad.get(i - 1), "never fewer rows: "
                        + countsDuringLoad);
            }
            assertTrue(countsDuringLoad.get(countsDuringLoad.size() - 1) > 5, "rows written during the load were"
                    + " read: " + countsDuringLoad + ", " + answered.get() + " answered");
            assertEquals(answered.get(), awaitCount(tollgate, answered.get()), "rows = responses received");
        }
    }

    @Test
    void tableCsvAndJsonCarryTheSameRows() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            Running tollgate = startDaemon();
            HttpClient client = ProxyClient.through(tollgate.proxyPort());
            assertEquals(200, ProxyClient.get(client, origin.base() + "/hello").statusCode());
            assertEquals(200, ProxyClient.get(client, origin.base() + "/bytes?n=3").statusCode());
            assertEquals(404, ProxyClient.get(client, origin.base() + "/missing").statusCode());
            awaitCount(tollgate, 3);
            String query = "SELECT id, ts, host, port, path, status, bytes_to_client, reason FROM access_log"
                    + " ORDER BY id";

            List<Map<String, String>> table = parseTable(sqlOk(tollgate.config(), "-c", query).stdoutLines());
            List<Map<String, String>> csv = parseCsv(sqlOk(tollgate.config(), "-c", query, "--format", "csv")
                    .stdout());
            List<Map<String, String>> json = parseJson(sqlOk(tollgate.config(), "-c", query, "--format", "json")
                    .stdout(), "NULL");

            assertEquals(List.of("ID", "TS", "HOST", "PORT", "PATH", "STATUS", "BYTES_TO_CLIENT", "REASON"),
                    List.copyOf(table.get(0).keySet()));
            assertEquals(List.of("/hello", "/bytes", "/missing"), column(table, "PATH"));
            assertEquals(List.of("200", "200", "404"), column(table, "STATUS"));
            assertEquals(List.of("5", "3", "9"), column(table, "BYTES_TO_CLIENT"));
            for (Map<String, String> row : table) {
                assertEquals("127.0.0.1", row.get("HOST"));
                assertEquals(Integer.toString(origin.port()), row.get("PORT"));
                assertEquals("NULL", row.get("REASON"));
                OffsetDateTime.parse(row.get("TS")); // ISO 8601
            }
            // The same rows in every format; csv writes NULL as an empty field.
            assertEquals(table, json);
            assertEquals(nullsAsEmpty(table), csv);
        }
    }

    @Test
    void awkwardValuesSurviveEveryFormat() throws Exception {
        Running tollgate = startDaemon();
        String query = "SELECT 'a,\"b\"' || CHAR(10) || 'c' AS \"tricky\", CAST(NULL AS VARCHAR) AS \"nothing\","
                + " 42 AS \"answer\", TRUE AS \"yes\", 1.5 AS \"half\", X'CAFE' AS \"raw\","
                + " TIMESTAMP WITH TIME ZONE '2025-01-31 09:15:00.54+00' AS \"at\"";

        Sql csv = sqlOk(tollgate.config(), "-c", query, "--format", "csv");
        assertEquals("tricky,nothing,answer,yes,half,raw,at\r\n"
                + "\"a,\"\"b\"\"\nc\",,42,TRUE,1.5,cafe,2025-01-31T09:15:00.540Z\r\n", csv.stdout());

        JsonNode json = JSON.readTree(sqlOk(tollgate.config(), "-c", query, "--format", "json").stdout());
        assertEquals(JSON.readTree("[{\"tricky\": \"a,\\\"b\\\"\\nc\", \"nothing\": null, \"answer\": 42,"
                + " \"yes\": true, \"half\": 1.5, \"raw\": \"cafe\", \"at\": \"2025-01-31T09:15:00.540Z\"}]"), json);

        List<String> table = sqlOk(tollgate.config(), "-c", query).stdoutLines();
        assertEquals(List.of(
                "tricky   | nothing | answer | yes  | half | raw  | at",
                "---------+---------+--------+------+------+------+-------------------------",
                "a,\"b\"\\nc | NULL    |     42 | TRUE |  1.5 | cafe | 2025-01-31T09:15:00.540Z",
                "(1 row)"), table);
    }

    @Test
    void withoutACommandItIsAnInteractiveShellOnTheSameConnection() throws Exception {
        Running tollgate = startDaemon();

        TollgateProcess shell = launch("sql", "--config", tollgate.config().toString());
        try (OutputStream in = shell.stdin()) {
            in.write("SELECT 'rows-' || COUNT(*) AS answer FROM access_log;\nquit\n".getBytes(StandardCharsets.UTF_8));
        }

        assertEquals(0, shell.awaitExit(EXIT_DEADLINE), shell.output());
        assertTrue(shell.stdout().stream().anyMatch(l -> l.contains("rows-0")), shell.output());
    }

    @Test
    void theReadmesAuditQueriesAnswerOnRealTraffic() throws Exception {
        List<String> queries = readmeQueries();
        assertEquals(3, queries.size(), "the README's three audit queries: " + queries);
        try (WebOrigin origin = WebOrigin.plain()) {
            Running tollgate = startDaemon();
            HttpClient client = ProxyClient.through(tollgate.proxyPort());
            for (int i = 0; i < 3; i++) {
                assertEquals(200, ProxyClient.get(client, origin.base() + "/hello").statusCode());
            }
            for (int i = 0; i < 2; i++) { // the same origin by another name: another host in the log
                assertEquals(200, ProxyClient.get(client, "http://localhost:" + origin.port() + "/bytes?n=1000").statusCode());
            }
            assertEquals(502, ProxyClient.get(client, "http://127.0.0.1:1/closed").statusCode());
            assertTrue(connectStatusLine(tollgate, "127.0.0.1:1").startsWith("HTTP/1.1 403 "));
            awaitCount(tollgate, 7);

            List<JsonNode> topHosts = queryJson(tollgate, queries.get(0));
            List<JsonNode> oneClient = queryJson(tollgate, queries.get(1).replace("$CLIENT", "127.0.0.1"));
            List<JsonNode> refusals = queryJson(tollgate, queries.get(2));

            assertEquals("localhost", topHosts.get(0).get("HOST").asText(), String.valueOf(topHosts));
            assertEquals(2, topHosts.get(0).get("REQUESTS").asLong());
            assertEquals(2000, topHosts.get(0).get("BYTES").asLong());
            assertEquals("127.0.0.1", topHosts.get(1).get("HOST").asText(), String.valueOf(topHosts));
            assertEquals(5, topHosts.get(1).get("REQUESTS").asLong());
            assertEquals(2, topHosts.size(), String.valueOf(topHosts));
            assertEquals(7, oneClient.size(), String.valueOf(oneClient));
            assertEquals(List.of("DENIED", "UPSTREAM_UNREACHABLE"), refusals.stream()
                    .map(row -> row.get("OUTCOME").asText()).sorted().toList(), String.valueOf(refusals));
            for (JsonNode refusal : refusals) {
                assertEquals(1, refusal.get("REQUESTS").asLong());
                assertFalse(refusal.get("REASON").asText().isBlank(), String.valueOf(refusal));
            }
        }
    }

    // ---- refusals --------------------------------------------------------------------------------------------

    @Test
    void writeStatementsAreRefusedWithAPermissionMessageAndChangeNothing() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            Running tollgate = startDaemon();
            HttpClient client = ProxyClient.through(tollgate.proxyPort());
            for (int i = 0; i < 3; i++) {
                assertEquals(200, ProxyClient.get(client, origin.base() + "/hello").statusCode());
            }
            awaitCount(tollgate, 3);
            String snapshot = "SELECT COUNT(*), MIN(id), MAX(id), SUM(bytes_to_client) FROM access_log";
            String before = sqlOk(tollgate.config(), "-c", snapshot, "--format", "csv").stdout();

            for (String write : List.of(
                    "INSERT INTO access_log (ts, node, listener, kind, outcome) VALUES (CURRENT_TIMESTAMP, 'x',"
                            + " 'main', 'FORWARD', 'OK')",
                    "DELETE FROM access_log",
                    "UPDATE access_log SET status = 599",
                    "DROP TABLE access_log",
                    "DROP TABLE admin_event",
                    "CREATE TABLE evidence (id INT)")) {
                Sql refused = sql(tollgate.config(), "-c", write);

                assertEquals(1, refused.exit(), write + "; " + refused.output());
                assertTrue(refused.oneErrorLine().startsWith(PERMISSION_DENIED), refused.output());
                assertEquals("", refused.stdout(), refused.output());
            }

            assertEquals(before, sqlOk(tollgate.config(), "-c", snapshot, "--format", "csv").stdout());
            assertEquals("COUNT(*)\r\n0\r\n", sqlOk(tollgate.config(), "-c", "SELECT COUNT(*) FROM admin_event",
                    "--format", "csv").stdout(), "admin_event is still there");
        }
    }

    @Test
    void tablesOutsideTheAuditGrantsAreNotReadable() throws Exception {
        Running tollgate = startDaemon();

        Sql refused = sql(tollgate.config(), "-c", "SELECT * FROM \"flyway_schema_history\"");

        assertEquals(1, refused.exit(), refused.output());
        assertTrue(refused.oneErrorLine().startsWith(PERMISSION_DENIED), refused.output());
    }

    @Test
    void aBadQueryPrintsH2sErrorOnOneLineAndExitsOne() throws Exception {
        Running tollgate = startDaemon();

        Sql typo = sql(tollgate.config(), "-c", "SELEC *\nFROM access_log");
        Sql unknown = sql(tollgate.config(), "-c", "SELECT * FROM no_such_table");

        assertEquals(1, typo.exit(), typo.output());
        assertTrue(typo.oneErrorLine().startsWith("tollgate: Syntax error in SQL statement"), typo.output());
        assertTrue(typo.oneErrorLine().endsWith("[42001]"), typo.output());
        assertEquals(1, unknown.exit(), unknown.output());
        assertEquals("tollgate: Table \"NO_SUCH_TABLE\" not found [42102]", unknown.oneErrorLine());
    }

    // ---- no daemon -------------------------------------------------------------------------------------------

    @Test
    void withNoDaemonEverStartedItSaysSoOnOneLineAndExitsOne() throws Exception {
        // No --config: the embedded defaults, state in ./tollgate-data of the (empty) working directory.
        Sql nothing = sql(null, "-c", "SELECT COUNT(*) FROM access_log");

        assertEquals(1, nothing.exit(), nothing.output());
        assertEquals("tollgate: no running daemon's SQL server on 127.0.0.1:9092 (is tollgate running with this"
                + " config?)", nothing.oneErrorLine());
        assertEquals("", nothing.stdout(), nothing.output());
    }

    @Test
    void afterTheDaemonStoppedItSaysSoOnOneLineAndExitsOne() throws Exception {
        Running tollgate = startDaemon();
        tollgate.process().sigterm();
        assertEquals(0, tollgate.process().awaitExit(EXIT_DEADLINE), tollgate.process().output());
        assertFalse(Files.exists(dir.resolve("state/sql.port")), "the port file goes with the server");
        // The same state directory, now with the port it had fixed in the config.
        Path fixedPort = writeConfig("{\"sqlPort\": " + tollgate.sqlPort() + "}");

        Sql stopped = sql(fixedPort, "-c", "SELECT COUNT(*) FROM access_log");
        Sql portFileGone = sql(tollgate.config(), "-c", "SELECT COUNT(*) FROM access_log");

        assertEquals(1, stopped.exit(), stopped.output());
        assertEquals("tollgate: no running daemon's SQL server on 127.0.0.1:" + tollgate.sqlPort()
                + " (is tollgate running with this config?)", stopped.oneErrorLine());
        assertEquals(1, portFileGone.exit(), portFileGone.output());
        assertTrue(portFileGone.oneErrorLine().startsWith("tollgate: no running daemon's SQL server for "),
                portFileGone.output());
    }

    // ---- the server's socket, password and port --------------------------------------------------------------

    @Test
    void theSqlServerSocketIsBoundTo127001Alone() throws Exception {
        Running tollgate = startDaemon();

        List<InetAddress> bound = listeningAddresses(tollgate.sqlPort());

        assertFalse(bound.isEmpty(), "a listening socket on port " + tollgate.sqlPort());
        for (InetAddress address : bound) {
            // An IPv6 socket bound to 127.0.0.1 shows as ::ffff:127.0.0.1, which Java reads back as 127.0.0.1.
            assertEquals("127.0.0.1", address.getHostAddress(), "bound addresses: " + bound);
        }
    }

    @Test
    void thePasswordFileIsMode0640AndKeptAcrossRestarts() throws Exception {
        Running first = startDaemon();
        Path passwordFile = dir.resolve("state/sql.password");
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), Files.getPosixFilePermissions(passwordFile));
        String password = Files.readString(passwordFile);
        assertTrue(password.trim().length() >= 32, "a long random password");
        first.process().sigterm();
        assertEquals(0, first.process().awaitExit(EXIT_DEADLINE), first.process().output());

        Running second = startDaemon();

        assertEquals(password, Files.readString(passwordFile));
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), Files.getPosixFilePermissions(passwordFile));
        assertEquals(0, count(second));
    }

    @Test
    void anSqlPortInUseStopsStartUpWithOneLineNamingTheKey() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            Path config = writeConfig("{\"sqlPort\": " + taken.getLocalPort() + "}");

            TollgateProcess daemon = launch("run", "--config", config.toString());

            assertEquals(1, daemon.awaitExit(START_DEADLINE), daemon.output());
            List<String> errors = daemon.stderr().stream().filter(l -> !l.isBlank()).toList();
            assertEquals(1, errors.size(), daemon.output());
            assertTrue(errors.get(0).startsWith("tollgate: cannot start: store.sqlPort: cannot listen on 127.0.0.1:"
                    + taken.getLocalPort()), daemon.output());
            assertNoStackTrace(daemon.stderr(), daemon.output());
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private record Running(TollgateProcess process, Path config, int proxyPort, int sqlPort) {
    }

    /** A finished {@code tollgate sql}: its stdout exactly as written (CSV's CRLFs intact), stderr by line. */
    private record Sql(int exit, String stdout, List<String> stderr) {
        List<String> stdoutLines() {
            return stdout.lines().toList();
        }

        String output() {
            return "stdout:\n" + stdout + "\nstderr:\n" + String.join("\n", stderr);
        }

        String oneErrorLine() {
            List<String> lines = stderr.stream().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), "exactly one line on stderr; " + output());
            assertNoStackTrace(stderr, output());
            return lines.get(0);
        }
    }

    /** A daemon with the SQL server on a free port, and one listener "main" that may reach loopback origins. */
    private Running startDaemon() throws Exception {
        Path config = writeConfig("{\"sqlPort\": 0}");
        TollgateProcess daemon = launch("run", "--config", config.toString());
        int sqlPort = Integer.parseInt(daemon.awaitLine(SQL_LISTENING, START_DEADLINE).group(1));
        Matcher listening = daemon.awaitLine(LISTENING, START_DEADLINE);
        daemon.awaitLine(STARTED, START_DEADLINE);
        return new Running(daemon, config, Integer.parseInt(listening.group(1)), sqlPort);
    }

    /** {@code tollgate sql [--config config] args...}, run to its end with stdin closed. */
    private Sql sql(Path config, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sql"));
        if (config != null) {
            command.addAll(List.of("--config", config.toString()));
        }
        command.addAll(List.of(args));
        Finished finished = runToEnd(command.toArray(String[]::new));
        return new Sql(finished.exit(), finished.stdout(), finished.stderrLines());
    }

    /** A config with the state in {@code dir/state} and {@code storeJson} as its store. */
    private Path writeConfig(String storeJson) throws IOException {
        return writeConfig(Integer.toString(storeJson.hashCode()), dir.resolve("state"), storeJson);
    }

    private Sql sqlOk(Path config, String... args) throws Exception {
        Sql result = sql(config, args);
        assertEquals(0, result.exit(), result.output());
        assertEquals(List.of(), result.stderr(), result.output());
        return result;
    }

    private long count(Running tollgate) throws Exception {
        List<Map<String, String>> csv = parseCsv(sqlOk(tollgate.config(), "-c", "SELECT COUNT(*) AS n FROM"
                + " access_log", "--format", "csv").stdout());
        assertEquals(1, csv.size(), String.valueOf(csv));
        return Long.parseLong(csv.get(0).get("N"));
    }

    /** Polls {@code tollgate sql} until it counts {@code expected} rows; fails at the deadline. */
    private long awaitCount(Running tollgate, long expected) throws Exception {
        return Poll.forMatch(expected + " rows", ROWS_DEADLINE, () -> count(tollgate), rows -> rows >= expected);
    }

    /** The SQL of every {@code tollgate sql ... -c "..."} in the README's "Live SQL for auditors" section. */
    private static List<String> readmeQueries() throws IOException {
        Path readme = Path.of("").toAbsolutePath().getParent().resolve("README.md");
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        int start = text.indexOf("\n## Live SQL for auditors\n");
        assertTrue(start >= 0, readme + " has a section \"Live SQL for auditors\"");
        int end = text.indexOf("\n## ", start + 1);
        Matcher query = Pattern.compile("tollgate sql [^\n]*-c \"([^\"]*)\"")
                .matcher(text.substring(start, end < 0 ? text.length() : end));
        List<String> queries = new ArrayList<>();
        while (query.find()) {
            queries.add(query.group(1));
        }
        return queries;
    }

    private List<JsonNode> queryJson(Running tollgate, String query) throws Exception {
        JsonNode rows = JSON.readTree(sqlOk(tollgate.config(), "--format", "json", "-c", query).stdout());
        List<JsonNode> list = new ArrayList<>();
        rows.forEach(list::add);
        return list;
    }

    /** Sends CONNECT {@code target} on a raw socket to the proxy and returns the response's status line. */
    private static String connectStatusLine(Running tollgate, String target) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", tollgate.proxyPort()), 10_000);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            StringBuilder line = new StringBuilder();
            for (int b = socket.getInputStream().read(); b >= 0 && b != '\n'; b = socket.getInputStream().read()) {
                line.append((char) b);
            }
            return line.toString().strip();
        }
    }

    private static void assertNoStackTrace(List<String> stderr, String output) {
        assertFalse(stderr.stream().anyMatch(l -> l.startsWith("\tat ") || l.contains("Exception:")), output);
    }

    // ---- parsing the three formats ---------------------------------------------------------------------------

    /** Header line, a rule of dashes, rows split on " | ", then "(N rows)". */
    private static List<Map<String, String>> parseTable(List<String> lines) {
        assertTrue(lines.size() >= 3, String.valueOf(lines));
        List<String> header = List.of(lines.get(0).split(" \\| ", -1)).stream().map(String::trim).toList();
        assertTrue(lines.get(1).matches("[-+]+"), lines.get(1));
        List<String> body = lines.subList(2, lines.size() - 1);
        assertEquals("(" + body.size() + (body.size() == 1 ? " row)" : " rows)"), lines.get(lines.size() - 1));
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : body) {
            String[] cells = line.split(" \\| ", -1);
            assertEquals(header.size(), cells.length, line);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < cells.length; i++) {
                row.put(header.get(i), cells[i].trim());
            }
            rows.add(row);
        }
        return rows;
    }

    /** RFC 4180, strictly: CRLF between records, quoted fields may hold commas, quotes ("") and line breaks. */
    private static List<Map<String, String>> parseCsv(String text) throws IOException {
        List<List<String>> records = CsvRecords.parse(text);
        List<String> header = records.get(0);
        List<Map<String, String>> rows = new ArrayList<>();
        for (List<String> fields : records.subList(1, records.size())) {
            assertEquals(header.size(), fields.size(), String.valueOf(fields));
            Map<String, String> row = new LinkedHashMap<>();
            for (int f = 0; f < fields.size(); f++) {
                row.put(header.get(f), fields.get(f));
            }
            rows.add(row);
        }
        return rows;
    }

    /** The array of objects, each value as text, JSON null as {@code nullText}. */
    private static List<Map<String, String>> parseJson(String text, String nullText) throws IOException {
        JsonNode array = JSON.readTree(text);
        assertTrue(array.isArray(), text);
        List<Map<String, String>> rows = new ArrayList<>();
        for (JsonNode object : array) {
            Map<String, String> row = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                row.put(field.getKey(), field.getValue().isNull() ? nullText : field.getValue().asText());
            }
            rows.add(row);
        }
        return rows;
    }

    private static List<Map<String, String>> nullsAsEmpty(List<Map<String, String>> rows) {
        List<Map<String, String>> copy = new ArrayList<>();
        for (Map<String, String> row : rows) {
            Map<String, String> changed = new LinkedHashMap<>();
            row.forEach((key, value) -> changed.put(key, value.equals("NULL") ? "" : value));
            copy.add(changed);
        }
        return copy;
    }

    private static List<String> column(List<Map<String, String>> rows, String name) {
        return rows.stream().map(row -> row.get(name)).toList();
    }

    // ---- /proc/net -------------------------------------------------------------------------------------------

    /** The local addresses of every listening TCP socket on {@code port}, IPv4 and IPv6, from the kernel's tables. */
    private static List<InetAddress> listeningAddresses(int port) throws IOException {
        List<InetAddress> addresses = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.exists(file)) {
                continue;
            }
            List<String> lines = Files.readAllLines(file);
            for (String line : lines.subList(1, lines.size())) {
                // "sl local_address rem_address st ...": local is HEXADDR:HEXPORT, state 0A is LISTEN.
                String[] fields = line.trim().split("\\s+");
                String[] local = fields[1].split(":");
                if (fields[3].equals("0A") && Integer.parseInt(local[1], 16) == port) {
                    addresses.add(kernelAddress(local[0]));
                }
            }
        }
        return addresses;
    }

    /** /proc/net/tcp* writes an address as 32-bit words in host (little-endian) byte order. */
    private static InetAddress kernelAddress(String hex) throws IOException {
        byte[] words = HexFormat.of().parseHex(hex);
        byte[] address = new byte[words.length];
        for (int w = 0; w < words.length; w += 4) {
            for (int b = 0; b < 4; b++) {
                address[w + b] = words[w + 3 - b];
            }
        }
        return InetAddress.getByAddress(address);
    }
}
