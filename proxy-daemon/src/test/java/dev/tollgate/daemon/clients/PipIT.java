package dev.tollgate.daemon.clients;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * pip installing a wheel from a simple index on loopback through {@code --proxy} (issue #20), into a throwaway
 * virtual environment, with no pip configuration file and no cache. The wheel is built by the test.
 */
class PipIT extends OriginBehindTollgate {

    private static final Duration LIMIT = Duration.ofMinutes(3);
    private static final String WHEEL = "tollgate_probe-1.0-py3-none-any.whl";

    @BeforeEach
    void start() throws Exception {
        ClientTool.assumeInstalled("python3", "python3");
        startOriginAndTollgate(Files.createDirectories(dir.resolve("www")), null);
    }

    @Test
    void pipInstallsAWheelFromALocalIndexThroughTheProxy() throws Exception {
        Path www = dir.resolve("www");
        Path wheel = buildWheel(www.resolve(WHEEL));
        Path project = Files.createDirectories(www.resolve("simple/tollgate-probe"));
        Files.writeString(project.resolve("index.html"), "<!DOCTYPE html><html><body><a href=\"../../" + WHEEL
                + "#sha256=" + WebOrigin.sha256(wheel) + "\">" + WHEEL + "</a></body></html>\n");
        Path venv = dir.resolve("venv");
        ClientTool.Result created = ClientTool.run(dir, LIMIT, "python3", "-m", "venv", venv.toString());
        Assumptions.assumeTrue(created.exitCode() == 0, () -> "python3 cannot make a virtual environment with"
                + " pip (Debian package python3-venv): skipped\n" + created.output());
        Map<String, String> env = Map.of("HOME", dir.toString(), "PIP_CONFIG_FILE", "/dev/null",
                "PIP_NO_CACHE_DIR", "1", "PIP_DISABLE_PIP_VERSION_CHECK", "1");

        ClientTool.Result install = ClientTool.run(dir, LIMIT, env, List.of(venv.resolve("bin/python").toString(),
                "-m", "pip", "install", "--no-input", "--index-url", origin.base() + "/files/simple/",
                "--proxy", "http://127.0.0.1:" + tollgate.port(), "tollgate-probe"));
        assertEquals(0, install.exitCode(), install::output);
        ClientTool.Result imported = ClientTool.run(dir, LIMIT, venv.resolve("bin/python").toString(), "-c",
                "import tollgate_probe; print(tollgate_probe.VALUE)");

        assertEquals("through tollgate\n", imported.stdout(), imported::output);
        AccessRecord page = tollgate.awaitRows(1, r -> "/files/simple/tollgate-probe/".equals(r.path())).get(0);
        assertEquals(200, page.status(), page::toString);
        assertEquals(Outcome.OK, page.outcome(), page::toString);
        AccessRecord fetch = tollgate.awaitRows(1, r -> ("/files/" + WHEEL).equals(r.path())).get(0);
        assertEquals(200, fetch.status(), fetch::toString);
        assertEquals(Outcome.OK, fetch.outcome(), fetch::toString);
        assertEquals(Files.size(wheel), fetch.bytesToClient(), fetch::toString);
    }

    /** A pure-Python wheel of one module, its RECORD hashed as the wheel format asks (PEP 427). */
    private static Path buildWheel(Path file) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("tollgate_probe/__init__.py", "VALUE = \"through tollgate\"\n");
        entries.put("tollgate_probe-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tollgate-probe\n"
                + "Version: 1.0\nSummary: installed through Tollgate by PipIT\n");
        entries.put("tollgate_probe-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: tollgate-tests\n"
                + "Root-Is-Purelib: true\nTag: py3-none-any\n");
        StringBuilder record = new StringBuilder();
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            byte[] bytes = entry.getValue().getBytes(StandardCharsets.UTF_8);
            MessageDigest digest = WebOrigin.sha256();
            record.append(entry.getKey()).append(",sha256=")
                    .append(Base64.getUrlEncoder().withoutPadding().encodeToString(digest.digest(bytes)))
                    .append(',').append(bytes.length).append('\n');
        }
        record.append("tollgate_probe-1.0.dist-info/RECORD,,\n");
        entries.put("tollgate_probe-1.0.dist-info/RECORD", record.toString());
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, String> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return file;
    }
}
