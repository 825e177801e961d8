package dev.tollgate.daemon.adminops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessLog;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /api/v1/backup} while requests flow (issue #11): the backup is a zip in the state directory's
 * {@code backups/}, and unzipped where a stopped daemon would find it, it opens as a database holding every row
 * written before the backup began.
 */
class DatabaseBackupIT {

    private static final int BEFORE = 200;

    @TempDir
    Path dir;

    @Test
    void aBackupTakenUnderTrafficRestoresToADatabaseThatOpensAndHoldsTheRows() throws Exception {
        Path stateDir = dir.resolve("state");
        ExecutorService load = Executors.newSingleThreadExecutor();
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.startWithConfig(stateDir, "{\"listeners\": [{\"name\":"
                     + " \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true}]}")) {
            AdminClient admin = AdminClient.asAdmin(stateDir, tollgate.adminPort());
            for (int i = 0; i < BEFORE; i++) {
                assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.base() + "/hello").status());
            }
            long lastIdBefore = Poll.forValue("the first " + BEFORE + " rows stored", () -> {
                JsonNode records = admin.get("/api/v1/access-log?limit=1000").expect(200).json().get("records");
                return records.size() == BEFORE ? records.get(BEFORE - 1).get("id").asLong() : null;
            });

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong during = new AtomicLong();
            Future<?> traffic = load.submit(() -> {
                while (!stop.get()) {
                    assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.base() + "/bytes?n=10").status());
                    during.incrementAndGet();
                }
                return null;
            });
            Poll.until("traffic flowing", () -> during.get() >= 20);
            JsonNode report = admin.post("/api/v1/backup", null).expect(201).json();
            stop.set(true);
            traffic.get(1, TimeUnit.MINUTES);

            Path zip = Path.of(report.get("file").asText());
            assertTrue(zip.startsWith(stateDir.resolve("backups")), report.toString());
            assertEquals(Files.size(zip), report.get("bytes").asLong(), report.toString());
            Path restored = dir.resolve("restored");
            List<String> entries = unzip(zip, restored);
            assertEquals(List.of("access.mv.db"), entries, "what the backup holds");

            // The backup holds the database alone: its owner password is the installation's owner.password.
            try (Connection db = DriverManager.getConnection("jdbc:h2:file:" + restored.resolve("access")
                    + ";IFEXISTS=TRUE", "tollgate", Files.readString(stateDir.resolve(AccessLog.OWNER_PASSWORD_FILE))
                    .trim());
                 Statement s = db.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), COUNT(CASE WHEN path = '/hello' THEN 1 END)"
                         + " FROM access_log WHERE id <= " + lastIdBefore)) {
                rs.next();
                assertEquals(BEFORE, rs.getLong(1), "rows up to the last one stored before the backup");
                assertEquals(BEFORE, rs.getLong(2), "and they are the requests made before it");
            }
            JsonNode event = null;
            for (JsonNode e : admin.get("/api/v1/admin-events").expect(200).json().get("events")) {
                if ("database.backup".equals(e.get("action").asText())) {
                    event = e;
                }
            }
            assertTrue(event != null && event.get("detail").asText().contains(zip.getFileName().toString()),
                    String.valueOf(event));
            // A second one in the same second gets a name of its own rather than overwriting the first.
            JsonNode second = admin.post("/api/v1/backup", null).expect(201).json();
            assertTrue(!second.get("file").asText().equals(report.get("file").asText()), second.toString());
        } finally {
            load.shutdownNow();
        }
    }

    private static List<String> unzip(Path zip, Path into) throws IOException {
        Files.createDirectories(into);
        List<String> names = new ArrayList<>();
        try (InputStream file = Files.newInputStream(zip); ZipInputStream entries = new ZipInputStream(file)) {
            for (ZipEntry entry; (entry = entries.getNextEntry()) != null; ) {
                names.add(entry.getName());
                Path target = into.resolve(entry.getName()).normalize();
                assertTrue(target.startsWith(into), entry.getName());
                Files.copy(entries, target);
            }
        }
        return names;
    }
}
