package dev.tollgate.daemon.battery;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admin API abuse (issue #10): bodies that are not JSON, JSON with unknown fields, 10 MiB bodies, wrong content
 * types, path traversal in listener names, and 1,000 rapid create/delete cycles that must leave no listening
 * socket and no thread behind. Every refusal is a 4xx with an {"error": "..."} body, and the daemon's
 * listeners are unchanged by it.
 */
class AdminAbuseIT {

    private static final int CYCLES = 1_000;
    /** Threads that may come and go on their own (JDK client pools, GC helpers) between the two counts. */
    private static final int THREAD_TOLERANCE = 8;

    @TempDir
    Path dir;

    private RunningTollgate tollgate;
    private AdminClient admin;

    @BeforeEach
    void start() throws Exception {
        tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener());
        admin = AdminClient.asAdmin(dir, tollgate.adminPort());
    }

    @AfterEach
    void stop() {
        if (tollgate != null) {
            tollgate.close();
        }
    }

    @Test
    void bodyThatIsNotJsonIs400() throws Exception {
        assertError(400, post("/api/v1/listeners", "application/json", "{\"name\": \"x\", "));
        assertOnlyMain();
    }

    @Test
    void bodyThatIsJsonButNotAnObjectIs400() throws Exception {
        assertError(400, post("/api/v1/listeners", "application/json", "[1, 2, 3]"));
        assertOnlyMain();
    }

    @Test
    void unknownFieldIs400NamingIt() throws Exception {
        JsonNode error = assertError(400, post("/api/v1/listeners", "application/json",
                "{\"name\": \"extra\", \"port\": 0, \"allowEverything\": true}"));
        assertTrue(error.get("error").asText().contains("allowEverything"), error::toString);
        assertOnlyMain();
    }

    /**
     * A declared length past the limit is refused from the head alone: 413 before the body is read. The body is
     * still being sent while the answer is read, as a real client's would be: the API closes after its answer,
     * and a client that reads only after sending all 10 MiB can meet a reset that discards the answer (the JDK's
     * HttpClient did, in CI).
     */
    @Test
    void tenMebibyteBodyIs413() throws Exception {
        int piece = 64 * 1024;
        assertTooLarge("Content-Length: " + 10 * 1024 * 1024, "x".repeat(piece), piece, "");
    }

    /**
     * Without a declared length (chunked), the API stops reading past its limit instead of buffering it all. It
     * answers 413 as soon as the body passes the limit and closes.
     */
    @Test
    void tenMebibyteChunkedBodyIs413() throws Exception {
        int piece = 64 * 1024;
        assertTooLarge("Transfer-Encoding: chunked", Integer.toHexString(piece) + "\r\n" + "x".repeat(piece) + "\r\n",
                piece, "0\r\n\r\n");
    }

    /**
     * POSTs a listener with 10 MiB of body framed by {@code framing}, sent {@code piece} by {@code piece} (each
     * carrying {@code pieceBytes} of body) while another thread reads the answer, which must be a 413 with a JSON
     * reason; nothing must have been created.
     */
    private void assertTooLarge(String framing, String piece, int pieceBytes, String end) throws Exception {
        java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.adminPort())) {
            java.util.concurrent.Future<RawHttpConnection.Response> answer = reader.submit(connection::readResponse);
            connection.send("POST /api/v1/listeners HTTP/1.1\r\nHost: 127.0.0.1:" + tollgate.adminPort()
                    + "\r\nAuthorization: Bearer " + admin.token() + "\r\nContent-Type: application/json\r\n"
                    + framing + "\r\n\r\n");
            try {
                for (int sent = 0; sent < 10 * 1024 * 1024 && !answer.isDone(); sent += pieceBytes) {
                    connection.send(piece);
                }
                connection.send(end);
            } catch (IOException stoppedReading) {
                // The API closed after its answer: what matters is that answer.
            }
            RawHttpConnection.Response response = answer.get(1, java.util.concurrent.TimeUnit.MINUTES);
            assertEquals(413, response.status(), new String(response.body()));
            assertTrue(String.valueOf(response.header("Content-Type")).startsWith("application/json"),
                    response::toString);
            assertFalse(AdminClient.JSON.readTree(response.body()).path("error").asText().isBlank(), response::toString);
        } finally {
            reader.shutdownNow();
        }
        assertOnlyMain();
    }

    @Test
    void wrongContentTypeIs415() throws Exception {
        assertError(415, post("/api/v1/listeners", "text/plain", "{\"name\": \"t\", \"port\": 0}"));
        assertError(415, post("/api/v1/listeners", "application/x-www-form-urlencoded", "name=t&port=0"));
        assertOnlyMain();
    }

    @Test
    void missingContentTypeIs415() throws Exception {
        assertError(415, admin.send("POST", "/api/v1/listeners", Map.of(),
                HttpRequest.BodyPublishers.ofString("{\"name\": \"t\", \"port\": 0}")));
        assertOnlyMain();
    }

    @Test
    void listenerNameWithPathTraversalIsRefusedOnCreate() throws Exception {
        for (String name : List.of("../../etc/passwd", "..", "a/b", "a\\\\b", "%2e%2e", "name\\u0000x")) {
            assertError(400, post("/api/v1/listeners", "application/json", "{\"name\": \"" + name + "\", \"port\": 0}"));
        }
        assertOnlyMain();
        try (Stream<Path> files = Files.list(dir.getParent())) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().equals("passwd")));
        }
    }

    /**
     * Encoded and raw traversal in the path never reaches another resource: 400, 404 or 405, never 2xx. (A raw
     * "../" that resolves inside the API, e.g. /api/v1/listeners/../listeners/main, is removed as RFC 3986 5.2.4
     * says and names that resource, as any client would.)
     */
    @Test
    void listenerPathWithTraversalIsNeverServed() throws Exception {
        for (String path : List.of("/api/v1/listeners/..%2F..%2Fhealth", "/api/v1/listeners/%2e%2e",
                "/api/v1/listeners/main%2F..%2F..%2Fstats", "/api/v1/listeners/../../../../etc/passwd",
                "/api/v1/listeners/%2e%2e/main/stop", "/api/v1/listeners/main/..%2F..%2Fmain/stop")) {
            int status = rawStatus("POST", path);
            assertTrue(status == 400 || status == 404 || status == 405, () -> path + " answered " + status);
        }
        assertOnlyMain();
        assertTrue(listener("main").path("state").asText().equalsIgnoreCase("running"), listener("main")::toString);
    }

    /**
     * 1,000 listeners created and deleted back to back: afterwards this process listens on exactly the sockets
     * it listened on before, and has no more threads than before (within a small tolerance for the JDK's own).
     */
    @Test
    void thousandRapidCreateDeleteCyclesLeakNoPortsAndNoThreads() throws Exception {
        // One cycle first, so that lazily started pools exist in both counts.
        cycle("warm-up");
        Set<Long> listeningBefore = listeningSocketInodes();
        int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();

        int lastPort = 0;
        for (int i = 0; i < CYCLES; i++) {
            lastPort = cycle("cycle-" + i);
        }

        Poll.until(() -> "listening sockets back to " + listeningBefore + ", now " + listeningSocketInodes(),
                Duration.ofSeconds(30), () -> listeningSocketInodes().equals(listeningBefore));
        Poll.until(() -> "threads back to " + threadsBefore + ", now "
                        + ManagementFactory.getThreadMXBean().getThreadCount(), Duration.ofSeconds(60),
                () -> ManagementFactory.getThreadMXBean().getThreadCount() <= threadsBefore + THREAD_TOLERANCE);
        int closedPort = lastPort;
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(RawHttpConnection.loopback(), closedPort), 10_000);
            }
        }, "a deleted listener's port is closed");
        assertOnlyMain();
    }

    /** Creates listener {@code name} on a free port, checks it, deletes it; returns the port it had. */
    private int cycle(String name) throws Exception {
        admin.post("/api/v1/listeners", "{\"name\": \"" + name + "\", \"port\": 0, \"denyDestinations\": [],"
                + " \"allowLocalHost\": true}").expect(201);
        int port = tollgate.daemon().listenerPort(name);
        admin.delete("/api/v1/listeners/" + name + "?drainMs=0").expect(204);
        return port;
    }

    private AdminClient.Reply post(String path, String contentType, String body) throws Exception {
        return admin.send("POST", path, Map.of("Content-Type", contentType), HttpRequest.BodyPublishers.ofString(body));
    }

    /** Sends {@code method path} exactly as written (no client normalises it) and returns the status. */
    private int rawStatus(String method, String path) throws IOException {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.adminPort())) {
            connection.send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + tollgate.adminPort()
                    + "\r\nAuthorization: Bearer " + admin.token() + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return connection.readResponse().status();
        }
    }

    private JsonNode listener(String name) throws Exception {
        return admin.get("/api/v1/listeners/" + name).json();
    }

    /** The daemon still has exactly its one listener, running. */
    private void assertOnlyMain() throws Exception {
        JsonNode all = admin.get("/api/v1/listeners").json();
        JsonNode list = all.isArray() ? all : all.path("listeners");
        assertEquals(1, list.size(), all::toString);
        assertEquals("main", list.get(0).path("name").asText(), all::toString);
    }

    private static JsonNode assertError(int status, AdminClient.Reply reply) {
        reply.expect(status);
        assertTrue(String.valueOf(reply.header("Content-Type")).startsWith("application/json"), reply::toString);
        JsonNode body = reply.json();
        assertEquals(1, body.size(), body::toString);
        assertFalse(body.path("error").asText().isBlank(), body::toString);
        return body;
    }

    /** Inodes of the TCP sockets in LISTEN state that this process holds open. */
    private static Set<Long> listeningSocketInodes() {
        try {
            Set<Long> listening = new HashSet<>();
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                Path file = Path.of(table);
                if (!Files.exists(file)) {
                    continue;
                }
                // Read once: the table changes between two reads, and a sublist of the first read cut at the
                // second read's length threw IndexOutOfBoundsException on a machine with 26,000 sockets.
                List<String> lines = Files.readAllLines(file);
                for (String line : lines.subList(1, lines.size())) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[3].equals("0A")) {
                        listening.add(Long.parseLong(f[9]));
                    }
                }
            }
            Set<Long> ours = new HashSet<>();
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                for (Path fd : (Iterable<Path>) fds::iterator) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("socket:[")) {
                            long inode = Long.parseLong(target.substring(8, target.length() - 1));
                            if (listening.contains(inode)) {
                                ours.add(inode);
                            }
                        }
                    } catch (IOException closedMeanwhile) {
                        // The fd went away while listing.
                    }
                }
            }
            return ours;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
