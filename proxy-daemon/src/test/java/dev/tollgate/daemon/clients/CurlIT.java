package dev.tollgate.daemon.clients;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.TollgateProcess;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * curl doing its everyday jobs through a running Tollgate (issue #20): downloads and uploads of every size that
 * changes curl's behaviour (0 B, 1 KiB, 2 MiB: curl's Expect threshold is 1 MiB, 64 MiB), HEAD, a chunked upload,
 * a resumed download, HTTP/1.0, a CONNECT tunnel to plain HTTP, and a 1 GiB download through a daemon whose
 * memory must stay flat. Each case checks what curl got and the access-log row.
 */
class CurlIT {

    private static final Duration CURL_LIMIT = Duration.ofMinutes(2);
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    @TempDir
    static Path dir;

    private static WebOrigin origin;
    private static RunningTollgate tollgate;

    @BeforeAll
    static void start() throws Exception {
        ClientTool.assumeInstalled("curl", "curl");
        origin = WebOrigin.builder().files(null).git(null).start();
        tollgate = RunningTollgate.start(dir.resolve("tollgate"), RunningTollgate.loopbackListener(origin.port()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (tollgate != null) {
            tollgate.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    static Stream<Long> sizes() {
        return Stream.of(0L, KIB, 2 * MIB, 64 * MIB);
    }

    static Stream<Arguments> uploads() {
        List<Arguments> all = new ArrayList<>();
        for (long size : sizes().toList()) {
            for (String method : List.of("POST", "PUT")) {
                all.add(Arguments.of(method, size, true));
                all.add(Arguments.of(method, size, false));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "GET {0} bytes")
    @MethodSource("sizes")
    void getDownloadsTheBodyWhole(long size) throws Exception {
        String path = "/bytes/" + size + "/get";
        Path out = dir.resolve("get-" + size);

        ClientTool.Result curl = curl("-o", out.toString(), origin.base() + path);

        assertEquals("200", curl.stdout(), curl::output);
        assertEquals(size, Files.size(out));
        assertEquals(WebOrigin.patternSha256(size), WebOrigin.sha256(out));
        AccessRecord row = row(path);
        assertOk(row, "GET", 200);
        assertEquals(size, row.bytesToClient(), row::toString);
    }

    @ParameterizedTest(name = "HEAD {0} bytes")
    @MethodSource("sizes")
    void headGetsTheLengthAndNoBody(long size) throws Exception {
        String path = "/bytes/" + size + "/head";

        ClientTool.Result curl = curl("-I", origin.base() + path);

        assertTrue(curl.stdout().startsWith("HTTP/1.1 200"), curl::output);
        assertTrue(Pattern.compile("(?mi)^content-length: " + size + "\r?$").matcher(curl.stdout()).find(),
                curl::output);
        AccessRecord row = row(path);
        assertOk(row, "HEAD", 200);
        assertEquals(0, row.bytesToClient(), row::toString);
    }

    /**
     * With Expect, curl waits (up to 1 s) for a 100 before it sends; without, it sends at once. The origin never
     * sends 100 itself (it is Jetty answering on the first read, which Tollgate's request no longer asks for).
     */
    @ParameterizedTest(name = "{0} {1} bytes, Expect {2}")
    @MethodSource("uploads")
    void uploadArrivesWhole(String method, long size, boolean expect) throws Exception {
        Path file = patternFile(size);
        String path = "/upload/" + method.toLowerCase() + "-" + size + (expect ? "-expect" : "-no-expect");
        Path answer = dir.resolve("answer" + path.replace('/', '-'));

        ClientTool.Result curl = curl(method.equals("PUT") ? "-T" : "--data-binary",
                method.equals("PUT") ? file.toString() : "@" + file,
                "-H", "Content-Type: application/octet-stream",
                "-H", expect ? "Expect: 100-continue" : "Expect:",
                "-o", answer.toString(), origin.base() + path);

        assertEquals("200", curl.stdout(), curl::output);
        assertEquals(size + " " + WebOrigin.sha256(file), Files.readString(answer).trim());
        AccessRecord row = row(path);
        assertOk(row, method, 200);
        assertEquals(size, row.bytesFromClient(), row::toString);
    }

    @Test
    void chunkedUploadOfEightMebibytesArrivesWhole() throws Exception {
        Path file = patternFile(8 * MIB);
        String path = "/upload/chunked";
        Path answer = dir.resolve("answer-chunked");

        ClientTool.Result curl = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file,
                "-o", answer.toString(), origin.base() + path);

        assertEquals("200", curl.stdout(), curl::output);
        assertEquals(8 * MIB + " " + WebOrigin.sha256(file), Files.readString(answer).trim());
        WebOrigin.Received received = origin.received().stream().filter(r -> r.path().equals(path))
                .findFirst().orElseThrow();
        assertEquals("chunked", received.header("Transfer-Encoding"), "streamed on as it came");
        AccessRecord row = row(path);
        assertOk(row, "POST", 200);
        assertEquals(8 * MIB, row.bytesFromClient(), row::toString);
    }

    @Test
    void rangeResumeCompletesAPartialDownload() throws Exception {
        long size = 3 * MIB;
        long had = MIB + 12345;
        String path = "/bytes/" + size + "/resume";
        Path out = dir.resolve("resumed");
        try (OutputStream partial = Files.newOutputStream(out)) {
            WebOrigin.writePattern(partial, 0, had);
        }

        ClientTool.Result curl = curl("-C", "-", "-o", out.toString(), origin.base() + path);

        assertEquals("206", curl.stdout(), curl::output);
        assertEquals(WebOrigin.patternSha256(size), WebOrigin.sha256(out));
        AccessRecord row = row(path);
        assertOk(row, "GET", 206);
        assertEquals(size - had, row.bytesToClient(), row::toString);
    }

    @Test
    void http10DownloadArrivesWhole() throws Exception {
        String path = "/bytes/" + 100 * KIB + "/http10";
        Path out = dir.resolve("http10");

        ClientTool.Result curl = curl("-0", "-o", out.toString(), origin.base() + path);

        assertEquals("200", curl.stdout(), curl::output);
        assertEquals(WebOrigin.patternSha256(100 * KIB), WebOrigin.sha256(out));
        AccessRecord row = row(path);
        assertOk(row, "GET", 200);
        assertEquals("HTTP/1.0", row.protocol(), row::toString);
    }

    @Test
    void proxytunnelToPlainHttpGoesThroughACONNECTTunnel() throws Exception {
        String path = "/bytes/" + 256 * KIB + "/tunnel";
        Path out = dir.resolve("tunnelled");

        ClientTool.Result curl = curl("-p", "-o", out.toString(), origin.base() + path);

        assertEquals("200", curl.stdout(), curl::output);
        assertEquals(WebOrigin.patternSha256(256 * KIB), WebOrigin.sha256(out));
        AccessRecord row = tollgate.awaitRows(1, r -> r.kind() == Kind.TUNNEL && r.port() == origin.port()).get(0);
        assertEquals(Outcome.OK, row.outcome(), row::toString);
        assertEquals(200, row.status());
        assertTrue(row.bytesToClient() > 256 * KIB, row::toString);
    }

    /**
     * 1 GiB through a daemon in its own JVM with a 64 MiB heap (and so at most 64 MiB of direct buffers): it
     * streams or it fails. Its resident memory may not grow by anything near the size either.
     */
    @Test
    void oneGibibyteDownloadStreamsThroughADaemonWhoseMemoryStaysFlat() throws Exception {
        long size = 1024 * MIB;
        Path work = Files.createDirectories(dir.resolve("child"));
        Path config = work.resolve("tollgate.json");
        Files.writeString(config, "{\"stateDir\": \"" + work.resolve("state") + "\", \"admin\": {\"port\": 0},"
                + " \"store\": {\"sqlPort\": -1}, \"listeners\": [" + RunningTollgate.loopbackListener() + "]}");
        TollgateProcess child = TollgateProcess.launchWithJvmOptions(work, List.of("-Xmx64m"), "run",
                "--config", config.toString());
        try {
            int port = Integer.parseInt(child.awaitLine(Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)"),
                    Duration.ofSeconds(60)).group(1));
            int adminPort = Integer.parseInt(child.awaitLine(Pattern.compile("admin - listening on [^ ]+:(\\d+)"),
                    Duration.ofSeconds(60)).group(1));
            // Warm: the first request loads the forwarding path's classes, which is not what is measured.
            ClientTool.Result warm = ClientTool.run(dir, CURL_LIMIT, "curl", "-sS", "-x", "http://127.0.0.1:" + port,
                    "-o", "/dev/null", "-w", "%{http_code}", origin.base() + "/bytes/" + MIB + "/warm");
            assertEquals("200", warm.stdout(), warm::output);
            long before = statusKib(child.pid(), "VmRSS");

            ClientTool.Result curl = ClientTool.run(dir, CURL_LIMIT, "curl", "-sS", "-x", "http://127.0.0.1:" + port,
                    "-o", "/dev/null", "-w", "%{http_code} %{size_download}", origin.base() + "/bytes/" + size + "/gib");

            long peak = statusKib(child.pid(), "VmHWM");
            assertEquals("200 " + size, curl.stdout(), curl::output);
            assertTrue(child.isAlive(), child.output());
            assertFalse(child.output().contains("OutOfMemoryError"), child.output());
            System.out.printf("1 GiB download: daemon RSS %d KiB before, peak %d KiB%n", before, peak);
            assertTrue(peak - before < 256 * 1024, () -> "the daemon's resident memory grew from " + before
                    + " KiB to a peak of " + peak + " KiB for a 1 GiB download");
            JsonNode row = childRow(work, adminPort, "/bytes/" + size + "/gib");
            assertEquals(200, row.path("status").asInt(), row::toString);
            assertEquals("OK", row.path("outcome").asText(), row::toString);
            assertEquals(size, row.path("bytes_to_client").asLong(), row::toString);
        } finally {
            child.kill();
        }
    }

    private static ClientTool.Result curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "-x", "http://127.0.0.1:" + tollgate.port(),
                "-w", "%{http_code}"));
        command.addAll(List.of(args));
        if (List.of(args).contains("-I")) {
            command.removeAll(List.of("-w", "%{http_code}"));
        }
        return ClientTool.run(dir, CURL_LIMIT, java.util.Map.of(), command);
    }

    /** A file of {@code size} pattern bytes, written a block at a time (made once per size). */
    private static Path patternFile(long size) throws Exception {
        Path file = dir.resolve("pattern-" + size);
        if (!Files.exists(file)) {
            try (OutputStream out = Files.newOutputStream(file)) {
                WebOrigin.writePattern(out, 0, size);
            }
        }
        return file;
    }

    private static AccessRecord row(String path) throws Exception {
        return tollgate.awaitRows(1, r -> path.equals(r.path())).get(0);
    }

    private static void assertOk(AccessRecord row, String method, int status) {
        assertEquals(method, row.method(), row::toString);
        assertEquals(status, row.status(), row::toString);
        assertEquals(Outcome.OK, row.outcome(), row::toString);
        assertEquals(Kind.FORWARD, row.kind(), row::toString);
    }

    private static long statusKib(long pid, String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new AssertionError(field + " not in /proc/" + pid + "/status");
    }

    /** The child daemon's row for {@code path}, through its admin API, polled until it is written. */
    private static JsonNode childRow(Path work, int adminPort, String path) throws Exception {
        AdminClient admin = AdminClient.asAdmin(work.resolve("state"), adminPort);
        return Poll.forValue("a row for " + path + " in the child daemon's access log", () -> {
            for (JsonNode record : admin.getJson("/api/v1/access-log").path("records")) {
                if (path.equals(record.path("path").asText())) {
                    return record;
                }
            }
            return null;
        });
    }
}
