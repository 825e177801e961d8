package dev.tollgate.daemon.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessLogWriter;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.TmpfsMount;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.tollgate.testing.AdminClient.HEALTH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Write failures (docs/access-log.md, "Write failures") on a real filesystem that fills up: the state
 * directory is a small tmpfs, filled to the last byte while the daemon runs. The writer keeps its records and
 * retries, health says DEGRADED and why, and once there is room again every record queued is stored.
 */
class WriteFailureIT {

    /** Room for the H2 file, its migrations and the tokens; found by trying (1 MiB is enough, 4 leaves slack). */
    private static final String TMPFS_SIZE = "4m";
    private static final int QUEUE_CAPACITY = 50;
    /**
     * Bounds the requests sent while the disk is full. Far more than the queue holds: H2 first fills the pages
     * still free inside its file (a few hundred rows, depending on what it had freed), and only a write that
     * needs the file to grow fails.
     */
    private static final int MAX_REQUESTS = 5_000;
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final Pattern HELLO_PATH = Pattern.compile("^/hello\\?i=(\\d+)$");

    @TempDir
    Path dir;

    private TmpfsMount tmpfs;
    private RunningTollgate tollgate;

    @AfterEach
    void stopAndUnmount() throws Exception {
        try {
            if (tollgate != null) {
                if (tmpfs != null) {
                    // Room for the writer to store what it holds, so that the stop does not wait for it in vain.
                    Files.deleteIfExists(tmpfs.dir().resolve("filler"));
                }
                tollgate.close();
            }
        } finally {
            if (tmpfs != null) {
                tmpfs.close();
            }
        }
    }

    @Test
    void aFullDiskDegradesHealthKeepsRowsQueuedAndStoresThemAllWhenThereIsRoomAgain() throws Exception {
        tmpfs = TmpfsMount.mount(dir.resolve("state"), TMPFS_SIZE);
        try (WebOrigin origin = WebOrigin.plain()) {
            // The smallest journal segments: a segment's mapped window has its blocks before the disk fills and
            // keeps taking records (a few hundred in 64 KiB, thousands in the default 1 MiB window) before the
            // journal's appends fail too and records go on from memory, which is what this test is after.
            tollgate = RunningTollgate.startWithConfig(tmpfs.dir(), "{\"store\": {\"queueCapacity\": "
                    + QUEUE_CAPACITY + ", \"journalSegmentBytes\": " + StoreConfig.MIN_JOURNAL_SEGMENT_BYTES
                    + "}, \"listeners\": [{\"name\": \"main\", \"port\": 0,"
                    + " \"denyDestinations\": [], \"allowLocalHost\": true, \"logQuery\": true}]}");
            AccessLogWriter writer = tollgate.daemon().accessLog().writer();
            AdminClient admin = AdminClient.asAdmin(tmpfs.dir(), tollgate.adminPort());
            Set<Integer> forwarded = new TreeSet<>();
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=0")).status());
            forwarded.add(0);
            tollgate.awaitRows(1);

            long filled = tmpfs.fill(tmpfs.dir().resolve("filler"));

            int refused = 0;
            int i = 1;
            for (; i < MAX_REQUESTS && !writer.isFull(); i++) {
                RawHttpConnection.Response response =
                        RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=" + i));
                if (response.status() == 200) {
                    forwarded.add(i);
                } else if (response.status() == 503) {
                    refused++;
                } else {
                    fail("request " + i + " answered " + response.status() + ": " + response.bodyText());
                }
            }
            JsonNode degraded = Poll.forMatch("health DEGRADED with the disk full", DEADLINE,
                    () -> admin.getJson(HEALTH),
                    h -> "DEGRADED".equals(h.path("status").asText()));
            String reason = degraded.path("reason").asText();
            assertTrue(reason.contains("No space left on device"), "the reason names the failure: " + degraded);
            assertTrue(i < MAX_REQUESTS, "the queue filled while the disk was full");
            // Now and then the writer still fits a batch into pages free inside the database file, which makes
            // room for a few more requests; with the disk still full the queue fills again and one is refused.
            int status;
            do {
                status = RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=" + i)).status();
                if (status == 200) {
                    forwarded.add(i);
                }
                i++;
            } while (status == 200 && i < MAX_REQUESTS);
            assertEquals(503, status, "refused while the queue is full");
            refused++;

            Files.delete(tmpfs.dir().resolve("filler"));

            // The writer stores again by itself. The journal, whose appends failed on the full disk too (the records
            // went on from memory), learns that there is room with its next append: one request once the queue
            // has room, then health is UP.
            Poll.forMatch("health the store UP with room again", DEADLINE, () -> admin.getJson(HEALTH),
                    h -> "UP".equals(h.path("store").asText()));
            Poll.until("the queue with room again", DEADLINE, () -> !writer.isFull());
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=" + i)).status());
            forwarded.add(i++);
            Poll.forMatch("health UP with room again", DEADLINE, () -> admin.getJson(HEALTH),
                    h -> "UP".equals(h.path("status").asText()));
            Map<Integer, Integer> rows = rowsById();
            for (int f : forwarded) {
                assertEquals(1, rows.getOrDefault(f, 0), "rows for forwarded request " + f + " of "
                        + forwarded.size());
            }
            assertEquals(forwarded, rows.keySet(), "rows only for the forwarded requests");
            // And it keeps storing.
            String after = "/hello?i=" + i;
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.url(after)).status());
            tollgate.awaitRows(1, r -> after.equals(r.path()));
            System.out.printf("disk full (filler of %d bytes): %d requests forwarded, all stored after the"
                    + " filler was deleted; %d refused with 503 while the queue was full; health said: %s%n",
                    filled, forwarded.size(), refused, reason);
        }
    }

    /** Stored rows per request number, after the writer has stored everything handed to it. */
    private Map<Integer, Integer> rowsById() throws Exception {
        Map<Integer, Integer> rows = new HashMap<>();
        for (AccessRecord r : tollgate.rows()) {
            Matcher m = r.path() == null ? null : HELLO_PATH.matcher(r.path());
            if (m != null && m.matches()) {
                rows.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
            }
        }
        return rows;
    }
}
