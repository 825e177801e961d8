package dev.tollgate.daemon;

import dev.tollgate.daemon.cli.Main;
import dev.tollgate.store.AccessLog;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon as an operator runs it: {@code tollgate ...} in its own JVM, driven by its command line, its exit
 * code, its stdout/stderr and signals, with the access log checked in the H2 file it leaves behind.
 */
class DaemonProcessIT extends ChildProcessTestBase {

    private static final long DRAIN_TIMEOUT_MS = 5_000;
    /** Generous bounds used only as deadlines, never asserted as speeds. */
    private static final Duration STOP_DEADLINE = Duration.ofMillis(DRAIN_TIMEOUT_MS).plusSeconds(30);

    // ---- command line ------------------------------------------------------------------------------------

    @Test
    void versionPrintsTheBuiltVersionAndExitsZero() throws Exception {
        TollgateProcess child = launch("version");

        assertEquals(0, child.awaitExit(EXIT_DEADLINE), child.output());
        assertEquals(List.of("tollgate " + builtVersion()), child.stdout(), child.output());
        assertEquals(List.of(), child.stderr(), child.output());
    }

    @Test
    void versionOptionPrintsTheSameVersion() throws Exception {
        TollgateProcess child = launch("--version");

        assertEquals(0, child.awaitExit(EXIT_DEADLINE), child.output());
        assertEquals(List.of("tollgate " + builtVersion()), child.stdout(), child.output());
    }

    @Test
    void noCommandExitsTwoWithUsageOnStderr() throws Exception {
        TollgateProcess child = launch();

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        String err = String.join("\n", child.stderr());
        assertTrue(err.contains("a command is needed"), child.output());
        assertTrue(err.contains("Usage: tollgate"), child.output());
        assertTrue(err.contains("run"), child.output());
        assertNoStackTrace(child);
    }

    @Test
    void unknownOptionExitsTwoWithUsageOnStderr() throws Exception {
        TollgateProcess child = launch("--bogus");

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        String err = String.join("\n", child.stderr());
        assertTrue(err.contains("--bogus"), child.output());
        assertTrue(err.contains("Usage: tollgate"), child.output());
        assertNoStackTrace(child);
    }

    @Test
    void unknownRunOptionExitsTwoWithRunUsageOnStderr() throws Exception {
        TollgateProcess child = launch("run", "--bogus");

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        String err = String.join("\n", child.stderr());
        assertTrue(err.contains("--bogus"), child.output());
        assertTrue(err.contains("Usage: tollgate run"), child.output());
    }

    // ---- config errors -----------------------------------------------------------------------------------

    @Test
    void aListenerPortOutOfRangeExitsTwoWithOneLineNamingFileAndKey() throws Exception {
        Path config = writeConfig("{\"name\": \"main\", \"port\": 70000}");

        TollgateProcess child = launch("run", "--config", config.toString());

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        String line = theOneErrorLine(child);
        assertTrue(line.startsWith("tollgate: " + config + ": "), line);
        assertTrue(line.contains("listeners[0].port"), line);
        assertFalse(Files.exists(dir.resolve("state")), "nothing started, no state directory");
        assertTrue(line.contains("70000"), line);
        assertTrue(line.contains("0 to 65535"), line);
    }

    @Test
    void anUnknownListenerKeyExitsTwoWithOneLineNamingFileAndKey() throws Exception {
        Path config = writeConfig("{\"name\": \"main\", \"port\": 0, \"prot\": 3128}");

        TollgateProcess child = launch("run", "--config", config.toString());

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        String line = theOneErrorLine(child);
        assertTrue(line.startsWith("tollgate: " + config + ": "), line);
        assertTrue(line.contains("listeners[0].prot"), line);
    }

    @Test
    void aMissingConfigFileExitsTwoWithOneLineNamingTheFile() throws Exception {
        Path config = dir.resolve("no-such-tollgate.json");

        TollgateProcess child = launch("run", "--config", config.toString());

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        assertEquals("tollgate: " + config + ": no such file", theOneErrorLine(child));
    }

    @Test
    void invalidJsonExitsTwoWithOneLineNamingFileLineAndColumn() throws Exception {
        Path config = dir.resolve("tollgate.json");
        Files.writeString(config, "{\n  \"drainTimeoutMs\": 5000\n  \"listeners\": []\n}\n");

        TollgateProcess child = launch("run", "--config", config.toString());

        assertEquals(2, child.awaitExit(EXIT_DEADLINE), child.output());
        String line = theOneErrorLine(child);
        assertTrue(line.startsWith("tollgate: " + config + ": invalid JSON at line 3, column 3"), line);
    }

    @Test
    void aPortAlreadyInUseExitsOneWithOneLineNamingListenerAndAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = taken.getLocalPort();
            Path config = writeConfig("{\"name\": \"main\", \"port\": " + port + "}");

            TollgateProcess child = launch("run", "--config", config.toString());

            assertEquals(1, child.awaitExit(START_DEADLINE), child.output());
            String line = theOneErrorLine(child);
            assertTrue(line.startsWith("tollgate: "), line);
            assertTrue(line.contains("listener main"), line);
            assertTrue(line.contains("127.0.0.1:" + port), line);
            assertTrue(line.contains("Address already in use"), line);
            assertNoStackTrace(child);
        }
    }

    // ---- state directory ---------------------------------------------------------------------------------

    @Test
    void aMissingStateDirectoryIsCreatedOwnerOnly() throws Exception {
        Path stateDir = dir.resolve("state");
        assertFalse(Files.exists(stateDir));

        Started tollgate = start("{\"name\": \"main\", \"port\": 0}");

        assertTrue(Files.isDirectory(stateDir));
        assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(stateDir));
        tollgate.child().sigterm();
        assertEquals(0, tollgate.child().awaitExit(STOP_DEADLINE), tollgate.child().output());
    }

    @Test
    void anExistingStateDirectoryKeepsItsMode() throws Exception {
        // The .deb and .rpm make /var/lib/tollgate 0750 so that group tollgate (auditors) can read the tokens.
        Path stateDir = Files.createDirectory(dir.resolve("state"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));

        Started tollgate = start("{\"name\": \"main\", \"port\": 0}");

        assertEquals(PosixFilePermissions.fromString("rwxr-x---"), Files.getPosixFilePermissions(stateDir));
        tollgate.child().sigterm();
        assertEquals(0, tollgate.child().awaitExit(STOP_DEADLINE), tollgate.child().output());
    }

    // ---- graceful stop -----------------------------------------------------------------------------------

    @Test
    void sigtermDuringABurstExitsZeroAndEveryAnsweredRequestHasExactlyOneRow() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            Started tollgate = start(loopbackListener("\"logQuery\": true", origin.port()));
            int total = 500;
            AtomicInteger next = new AtomicInteger();
            Set<Integer> answered = ConcurrentHashMap.newKeySet();
            AtomicInteger unanswered = new AtomicInteger();
            CountDownLatch firstHundred = new CountDownLatch(100);
            ExecutorService workers = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int w = 0; w < 4; w++) {
                    running.add(workers.submit(() -> {
                        for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                            if (getHello(tollgate.port(), origin.port(), i)) {
                                answered.add(i);
                                firstHundred.countDown();
                            } else {
                                unanswered.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                assertTrue(firstHundred.await(START_DEADLINE.toSeconds(), TimeUnit.SECONDS),
                        "100 responses before the deadline; " + tollgate.child().output());

                tollgate.child().sigterm();

                for (Future<?> worker : running) {
                    worker.get(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS);
                }
            } finally {
                workers.shutdownNow();
            }
            assertEquals(0, tollgate.child().awaitExit(STOP_DEADLINE), tollgate.child().output());
            assertTrue(tollgate.child().stdout().stream().anyMatch(l -> l.endsWith(" - stopped")),
                    tollgate.child().output());
            assertEquals(total, answered.size() + unanswered.get());

            Map<String, Integer> rowsByPath = new HashMap<>();
            int okRows = 0;
            try (Connection db = openAccessLog(tollgate.stateDir());
                 Statement query = db.createStatement();
                 ResultSet rows = query.executeQuery("SELECT path, status FROM access_log WHERE listener = 'main'")) {
                while (rows.next()) {
                    String path = rows.getString(1);
                    int status = rows.getInt(2);
                    if (status == 200) {
                        okRows++;
                    }
                    rowsByPath.merge(path, 1, Integer::sum);
                }
            }
            for (int i : answered) {
                assertEquals(1, rowsByPath.getOrDefault("/hello?i=" + i, 0),
                        "rows for answered request " + i + " (" + answered.size() + " answered)");
            }
            rowsByPath.forEach((path, count) -> assertEquals(1, count, "rows for " + path));
            assertTrue(okRows >= answered.size(), okRows + " rows with status 200 for " + answered.size()
                    + " answered requests");
        }
    }

    @Test
    void sigtermWithAnOpenTunnelExitsZeroAndRecordsTheBytesExchanged() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start()) {
            Started tollgate = start(loopbackListener(null, echo.port()));
            byte[] first = filled(1000, (byte) 'a');
            byte[] second = filled(234, (byte) 'b');

            try (Socket client = new Socket()) {
                client.connect(new InetSocketAddress("127.0.0.1", tollgate.port()), 10_000);
                client.setSoTimeout(30_000);
                OutputStream out = client.getOutputStream();
                InputStream in = client.getInputStream();
                String target = "127.0.0.1:" + echo.port();
                out.write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String head = RawHttpConnection.readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);

                out.write(first);
                out.flush();
                assertArrayEquals(first, in.readNBytes(first.length));
                out.write(second);
                out.flush();
                assertArrayEquals(second, in.readNBytes(second.length));

                tollgate.child().sigterm(); // while the tunnel is open

                assertEquals(0, tollgate.child().awaitExit(STOP_DEADLINE), tollgate.child().output());
            }
            assertTrue(tollgate.child().stdout().stream().anyMatch(l -> l.endsWith(" - stopped")),
                    tollgate.child().output());

            try (Connection db = openAccessLog(tollgate.stateDir());
                 Statement query = db.createStatement();
                 ResultSet rows = query.executeQuery("SELECT method, host, port, status, bytes_from_client,"
                         + " bytes_to_client FROM access_log WHERE kind = 'TUNNEL'")) {
                assertTrue(rows.next(), "a tunnel row; " + tollgate.child().output());
                assertEquals("CONNECT", rows.getString(1));
                assertEquals("127.0.0.1", rows.getString(2));
                assertEquals(echo.port(), rows.getInt(3));
                assertEquals(200, rows.getInt(4));
                assertEquals(first.length + second.length, rows.getLong(5));
                assertEquals(first.length + second.length, rows.getLong(6));
                assertFalse(rows.next(), "exactly one tunnel row");
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private record Started(TollgateProcess child, int port, Path stateDir) {
    }

    /** Listener "main" on a free port, loopback destinations allowed, CONNECT to {@code connectPort}. */
    private static String loopbackListener(String extra, int connectPort) {
        return "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": [" + connectPort + "]"
                + (extra == null ? "" : ", " + extra) + "}";
    }

    /** A config file with the state in {@code dir/state}, admin and SQL on free ports and one listener. */
    private Path writeConfig(String listenerJson) throws IOException {
        Path config = dir.resolve("tollgate.json");
        Files.writeString(config, "{\n"
                + "  \"stateDir\": \"" + json(dir.resolve("state").toString()) + "\",\n"
                + "  \"drainTimeoutMs\": " + DRAIN_TIMEOUT_MS + ",\n"
                + "  \"admin\": {\"port\": 0},\n"
                + "  \"store\": {\"sqlPort\": 0},\n"
                + "  \"listeners\": [" + listenerJson + "]\n"
                + "}\n");
        return config;
    }

    /** Runs {@code tollgate run} with one listener and waits until it says it has started. */
    private Started start(String listenerJson) throws Exception {
        Path config = writeConfig(listenerJson);
        TollgateProcess child = launch("run", "--config", config.toString());
        Matcher listening = child.awaitLine(LISTENING, START_DEADLINE);
        int port = Integer.parseInt(listening.group(1));
        child.awaitLine(STARTED, START_DEADLINE);
        return new Started(child, port, dir.resolve("state"));
    }

    private static String builtVersion() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Main.class.getResourceAsStream("/tollgate-version.properties")) {
            assertTrue(in != null, "tollgate-version.properties on the classpath");
            properties.load(in);
        }
        String version = properties.getProperty("version");
        assertTrue(version != null && version.matches("\\d+\\.\\d+\\.\\d+.*"), "a filtered version: " + version);
        return version;
    }

    private static String theOneErrorLine(TollgateProcess child) {
        List<String> lines = child.stderr().stream().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "exactly one line on stderr; " + child.output());
        return lines.get(0);
    }

    private static void assertNoStackTrace(TollgateProcess child) {
        assertFalse(child.stderr().stream().anyMatch(l -> l.startsWith("\tat ")), child.output());
    }

    /** One GET through the proxy on its own connection; whether it came back 200 with the origin's body. */
    private static boolean getHello(int proxyPort, int originPort, int i) {
        String origin = "127.0.0.1:" + originPort;
        String request = "GET http://" + origin + "/hello?i=" + i + " HTTP/1.1\r\nHost: " + origin
                + "\r\nConnection: close\r\n\r\n";
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", proxyPort), 10_000);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            return response.startsWith("HTTP/1.1 200 ") && response.endsWith("\r\n\r\nhello");
        } catch (IOException e) {
            return false; // refused or cut by the stop: not answered
        }
    }

    private static Connection openAccessLog(Path stateDir) throws Exception {
        return DriverManager.getConnection("jdbc:h2:file:" + stateDir.resolve("access") + ";IFEXISTS=TRUE",
                "tollgate", Files.readString(stateDir.resolve(AccessLog.OWNER_PASSWORD_FILE)).trim());
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, value);
        return bytes;
    }

    private static String json(String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
