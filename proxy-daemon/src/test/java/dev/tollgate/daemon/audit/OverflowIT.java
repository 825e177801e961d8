package dev.tollgate.daemon.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessLogWriter;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.tollgate.testing.AdminClient.HEALTH;
import static dev.tollgate.testing.AdminClient.STATS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The overflow policies (docs/access-log.md, "Overflow") with a writer that really cannot store: its table is
 * renamed away under it, and back for the recovery. Records past the queue wait in the journal on disk; once the
 * journal holds {@code store.journalMaxBytes} too, {@code refuse} answers new requests 503 before anything is
 * forwarded, and {@code forward} lets them through unlogged and counts them.
 */
class OverflowIT {

    private static final int QUEUE_CAPACITY = 20;
    /** The smallest journal allowed: four segments of 64 KiB, some 1,000 records past the queue. */
    private static final String SMALL_JOURNAL = "\"journalSegmentBytes\": 65536, \"journalMaxBytes\": 262144";
    /** Bounds the loops that fill the queue and the journal; far more than they hold. */
    private static final int MAX_REQUESTS = 5_000;
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final Pattern HELLO_PATH = Pattern.compile("^/hello\\?i=(\\d+)$");

    @TempDir
    Path dir;

    private RunningTollgate tollgate;
    private boolean tableAway;

    @AfterEach
    void stop() throws SQLException {
        if (tollgate != null) {
            if (tableAway) {
                renameTable("access_log_away", "access_log");
            }
            tollgate.close();
        }
    }

    @Test
    void anOutageLongerThanTheQueueRefusesNothingTheRecordsWaitInTheJournalAndAreStoredOnce() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            tollgate = start("{\"queueCapacity\": " + QUEUE_CAPACITY + "}");
            AccessLogWriter writer = tollgate.daemon().accessLog().writer();
            AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
            int sent = 20 * QUEUE_CAPACITY;

            renameTable("access_log", "access_log_away");
            for (int i = 0; i < sent; i++) {
                RawHttpConnection.Response response =
                        RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=" + i));
                assertEquals(200, response.status(), "request " + i + ": " + response.bodyText());
            }
            assertTrue(writer.isSpilling(), "records past the queue wait in the journal");
            JsonNode stats = admin.getJson(STATS);
            assertEquals(0, overloadedRefusals(stats), stats.toString());
            assertEquals(0, stats.path("accessLog").path("dropped").asLong(), stats.toString());

            renameTable("access_log_away", "access_log");

            Poll.until("every row stored", DEADLINE, () -> tollgate.rows().size() >= sent);
            Map<Integer, Integer> rows = rowsById();
            for (int i = 0; i < sent; i++) {
                assertEquals(1, rows.getOrDefault(i, 0), "rows for request " + i);
            }
            Poll.until("the writer caught up with the journal", DEADLINE, () -> !writer.isSpilling());
            System.out.printf("outage past the queue: %d requests forwarded, none refused, all stored once%n", sent);
        }
    }

    @Test
    void refuseAnswers503WithRetryAfterBeforeForwardingWhileTheJournalIsFullAndLosesNoForwardedRow()
            throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            tollgate = start("{\"queueCapacity\": " + QUEUE_CAPACITY + ", " + SMALL_JOURNAL + "}");
            AccessLogWriter writer = tollgate.daemon().accessLog().writer();
            AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
            Set<Integer> forwarded = new TreeSet<>();
            int refused = 0;

            renameTable("access_log", "access_log_away");
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=0")).status());
            forwarded.add(0);
            JsonNode degraded = Poll.forMatch("health DEGRADED while the table is away", DEADLINE,
                    () -> admin.getJson(HEALTH),
                    h -> "DEGRADED".equals(h.path("status").asText()));
            assertTrue(degraded.path("reason").asText().contains("ACCESS_LOG"), "the reason names the failure: "
                    + degraded);
            for (int i = 1; i < MAX_REQUESTS && !writer.isFull(); i++) {
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
            Poll.until("the writer's queue and journal full", DEADLINE, () -> writer.isFull());

            RawHttpConnection.Response overloaded =
                    RawHttpConnection.getVia(tollgate.port(), origin.url("/never?i=refused"));
            refused++;

            assertEquals(503, overloaded.status(), overloaded.bodyText());
            assertTrue(overloaded.complete());
            assertNotNull(overloaded.header("retry-after"), "Retry-After: " + overloaded.headers());
            assertTrue(overloaded.header("retry-after").matches("\\d+"), overloaded.headers().toString());
            String body = overloaded.bodyText();
            assertTrue(body.startsWith("503 ") && body.endsWith("\n") && body.indexOf('\n') == body.length() - 1,
                    "a one-line body: " + body);
            assertEquals(0, origin.hits("/never"), "nothing of the refused request reached the origin");
            assertEquals(forwarded.size(), origin.hits("/hello"), "only the requests answered 200 reached it");
            int refusals = refused;
            JsonNode stats = Poll.forMatch("stats showing " + refusals + " OVERLOADED refusals", DEADLINE,
                    () -> admin.getJson(STATS),
                    s -> overloadedRefusals(s) == refusals);
            // Each refusal's own record found no room: not stored, and counted as dropped.
            assertEquals(refusals, stats.path("accessLog").path("dropped").asLong(), stats.toString());
            JsonNode health = admin.getJson(HEALTH);
            assertEquals("DEGRADED", health.path("status").asText(), health.toString());
            assertFalse(health.path("reason").asText().isBlank(), health.toString());

            renameTable("access_log_away", "access_log");

            Poll.forMatch("health UP after the repair", DEADLINE, () -> admin.getJson(HEALTH),
                    h -> "UP".equals(h.path("status").asText()));
            Map<Integer, Integer> rows = rowsById();
            for (int i : forwarded) {
                assertEquals(1, rows.getOrDefault(i, 0), "rows for forwarded request " + i + " of "
                        + forwarded.size());
            }
            assertEquals(forwarded, rows.keySet(), "rows only for the forwarded requests");
            System.out.printf("refuse: %d requests forwarded and stored after the outage, %d refused with 503%n",
                    forwarded.size(), refusals);
        }
    }

    @Test
    void forwardLetsRequestsThroughWhileTheJournalIsFullAndCountsThemUnlogged() throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            tollgate = start("{\"queueCapacity\": " + QUEUE_CAPACITY + ", \"onOverflow\": \"forward\", "
                    + SMALL_JOURNAL + "}");
            AccessLogWriter writer = tollgate.daemon().accessLog().writer();
            AdminClient admin = AdminClient.asAdmin(dir, tollgate.adminPort());
            int requests = 0;

            renameTable("access_log", "access_log_away");
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i=" + requests++)).status());
            Poll.forMatch("health DEGRADED while the table is away", DEADLINE, () -> admin.getJson(HEALTH),
                    h -> "DEGRADED".equals(h.path("status").asText()));
            int pastFull = 0;
            while (pastFull < 30 && requests < MAX_REQUESTS) {
                pastFull += writer.isFull() ? 1 : 0;
                RawHttpConnection.Response response = RawHttpConnection.getVia(tollgate.port(), origin.url("/hello?i="
                        + requests));
                assertEquals(200, response.status(), "request " + requests + ": " + response.bodyText());
                requests++;
            }

            int sent = requests;
            // The stats count a record after the sink has taken (or turned away) it: once all are counted,
            // unlogged is final.
            JsonNode stats = Poll.forMatch("stats showing " + sent + " requests", DEADLINE, () -> admin.getJson(STATS),
                    s -> s.path("totals").path("requests").asLong() == sent);
            long unlogged = stats.path("accessLog").path("unlogged").asLong();
            assertTrue(unlogged > 0, "requests forwarded without their record are counted: " + stats);
            assertEquals(sent, origin.hits("/hello"), "every request was forwarded");
            assertEquals((double) unlogged, sample(admin.get("/metrics").expect(200).text(),
                    "tollgate_access_log_unlogged_total"), "the metric counts the same as the stats");
            assertEquals(0, stats.path("totals").path("refusalsByOutcome").path("OVERLOADED").asLong(),
                    stats.toString());
            // Disjoint counts: an unlogged request is not also a dropped record (issue #23).
            assertEquals(0, stats.path("accessLog").path("dropped").asLong(), stats.toString());

            renameTable("access_log_away", "access_log");

            Poll.forMatch("health UP after the repair", DEADLINE, () -> admin.getJson(HEALTH),
                    h -> "UP".equals(h.path("status").asText()));
            Map<Integer, Integer> rows = rowsById();
            rows.forEach((i, count) -> assertEquals(1, count, "rows for request " + i));
            assertEquals(sent, rows.size() + unlogged, "every forwarded request is either stored or counted"
                    + " unlogged (" + rows.size() + " stored, " + unlogged + " unlogged)");
            System.out.printf("forward: %d requests forwarded during the outage, %d stored, %d unlogged%n", sent,
                    rows.size(), unlogged);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private RunningTollgate start(String storeJson) throws Exception {
        return RunningTollgate.startWithConfig(dir, "{\"store\": " + storeJson + ", \"listeners\": [{\"name\":"
                + " \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"logQuery\": true}]}");
    }

    /** Renames the access-log table through the daemon's own database: the writer's inserts fail, or work again. */
    private void renameTable(String from, String to) throws SQLException {
        try (Connection c = tollgate.daemon().accessLog().dataSource().getConnection();
             Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + from + " RENAME TO " + to);
        }
        tableAway = to.equals("access_log_away");
    }

    private static long overloadedRefusals(JsonNode stats) {
        return stats.path("totals").path("refusalsByOutcome").path("OVERLOADED").asLong(0);
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

    /** The value of an unlabelled sample in the Prometheus text, or fails when it is not there. */
    private static double sample(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
                .matcher(metrics);
        if (!m.find()) {
            fail("no sample " + name + " in:\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }
}
