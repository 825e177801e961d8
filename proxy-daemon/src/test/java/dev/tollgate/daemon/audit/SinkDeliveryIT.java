package dev.tollgate.daemon.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.store.AccessLog;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import dev.tollgate.testing.receivers.OtlpReceiver;
import dev.tollgate.testing.receivers.RsyslogServer;
import io.opentelemetry.proto.logs.v1.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Push sinks against real daemon processes (docs/integrations.md): what reaches a sink's receiver across a kill -9
 * of the daemon is every record the database has, each under its journal number, a record seen twice only under the
 * same number with the same chain value, and no number missing.
 */
class SinkDeliveryIT {

    private static final int LOAD_CONNECTIONS = 4;
    private static final int KILL_AFTER_COMPLETED = 3_000;
    private static final Duration DEADLINE = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Four segments of 64 KiB: a few hundred records. */
    private static final String SMALL_JOURNAL = ", \"journalMaxBytes\": 262144";

    @TempDir
    Path dir;

    private final List<ChildDaemon> children = new ArrayList<>();

    @AfterEach
    void killChildren() {
        children.forEach(ChildDaemon::close);
    }

    @Test
    void theFileSinkHasEveryStoredRecordAcrossAnOutageAndAKillNineAndDuplicatesOnlyUnderTheirNumber()
            throws Exception {
        Path lines = blockedSinkFile();
        Path blocker = lines.getParent();
        String sink = "{\"name\": \"lines\", \"type\": \"file\", \"path\": \"" + lines + "\", \"maxBytes\": 262144, \"maxFiles\": 50}";
        try (WebOrigin origin = WebOrigin.plain()) {
            ChildDaemon first = start(sink);
            HelloLoad load = HelloLoad.start(LOAD_CONNECTIONS, first.port(), origin.port());
            try (load) {
                Poll.until(() -> load.completedAtNanos().size() + " requests completed; " + first.output(), DEADLINE,
                        () -> load.completedAtNanos().size() >= KILL_AFTER_COMPLETED);
                JsonNode failing = AdminClient.asAdmin(stateDir(), first.adminPort()).getJson("/api/v1/health");
                assertEquals("DEGRADED", failing.path("status").asText(), failing.toString());
                assertEquals("FAILING", failing.path("sinks").path(0).path("status").asText(), failing.toString());
                assertTrue(failing.path("sinks").path(0).path("reason").asText().startsWith("cannot open " + lines + ": a file is in the way of its directory " + blocker),
                        failing.toString());
                load.stop();
                first.sigkill();
            }
            assertEquals(List.of(), load.unexpected(), "load errors before the kill");
            assertNotEquals(0, first.awaitExit(DEADLINE), "killed, not stopped");
            assertTrue(journalSegments() > 2, "the sink's backlog is kept in the journal: " + journalSegments());
            Files.delete(blocker);

            ChildDaemon second = start(sink);
            assertEquals(200, RawHttpConnection.getVia(second.port(), origin.url("/hello?i=-1")).status());
            AdminClient admin = AdminClient.asAdmin(stateDir(), second.adminPort());
            JsonNode health = Poll.forMatch("the sink catching up", DEADLINE, () -> admin.getJson("/api/v1/health"),
                    h -> h.path("sinks").path(0).path("lagRecords").asLong() == 0);
            assertEquals("UP", health.path("sinks").path(0).path("status").asText(), health.toString());
            // Admin events go out too, under their own numbers: a reload is one.
            admin.post("/api/v1/reload").expect(200);
            JsonNode reload = Poll.forMatch("the reload's admin event in the sink's file", DEADLINE,
                    () -> readLines(lines).stream().filter(l -> l.path("type").asText().equals("admin")).toList(),
                    events -> !events.isEmpty()).get(0);
            assertEquals("config.reload", reload.path("action").asText(), reload.toString());
            assertEquals(64, reload.path("chain").asText().length(), reload.toString());
            assertTrue(admin.get("/metrics").expect(200).text().contains("tollgate_sink_delivered_total{sink=\"lines\"}"));
            second.sigterm();
            assertEquals(0, second.awaitExit(DEADLINE), second.output());

            int duplicates = assertEveryStoredRecordOnce(readLines(lines));
            Map<Long, String> stored = storedPathsBySeq();
            for (Integer i : load.completedAtNanos().keySet()) {
                assertTrue(stored.containsValue("/hello?i=" + i), "request " + i + " was answered, so it has a row");
            }
            System.out.printf("file sink across an outage and kill -9: %d records sent twice, %d files%n",
                    duplicates, files(lines).size());
            assertTrue(files(lines).size() > 1, "262,144 bytes a file: the sink rotated " + files(lines));
            for (Path f : files(lines)) {
                assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f + "");
            }
        }
    }

    @Test
    void aBlockSinkThatFallsJournalMaxBytesBehindTurnsNewRequestsAwayUntilItDeliversAgain() throws Exception {
        Path lines = blockedSinkFile();
        Path blocker = lines.getParent();
        try (WebOrigin origin = WebOrigin.plain()) {
            ChildDaemon daemon = start("{\"name\": \"lines\", \"type\": \"file\", \"path\": \"" + lines + "\"}",
                    SMALL_JOURNAL);
            RawHttpConnection.Response refused = null;
            int answered = 0;
            while (refused == null && answered < 5_000) {
                RawHttpConnection.Response r = RawHttpConnection.getVia(daemon.port(), origin.url("/hello?i=" + answered));
                if (r.status() == 503) {
                    refused = r;
                } else {
                    assertEquals(200, r.status());
                    answered++;
                }
            }
            assertNotNull(refused, "262,144 bytes of journal hold about 800 records, not 5,000");
            assertTrue(refused.bodyText().contains("a push sink is behind"), refused.bodyText());
            AdminClient admin = AdminClient.asAdmin(stateDir(), daemon.adminPort());
            JsonNode health = admin.getJson("/api/v1/health");
            assertEquals("FAILING", health.path("sinks").path(0).path("status").asText(), health.toString());

            Files.delete(blocker);
            Poll.until("requests let in again once the sink delivers", DEADLINE, () -> RawHttpConnection.getVia(
                    daemon.port(), origin.url("/hello?i=-1")).status() == 200);
            daemon.sigterm();
            assertEquals(0, daemon.awaitExit(DEADLINE), daemon.output());
            Map<Long, JsonNode> delivered = accessRecordsBySeq(lines);
            assertEquals("", difference(storedPathsBySeq().keySet(), delivered.keySet()), "stored rows the sink lacks");
            System.out.printf("block sink: %d requests answered before the first 503; %d records delivered%n",
                    answered, delivered.size());
        }
    }

    @Test
    void aDropSinkThatFallsJournalMaxBytesBehindGivesRecordsUpAndSaysWhichInTheAdminTrail() throws Exception {
        Path lines = blockedSinkFile();
        Path blocker = lines.getParent();
        try (WebOrigin origin = WebOrigin.plain()) {
            ChildDaemon daemon = start("{\"name\": \"lines\", \"type\": \"file\", \"path\": \"" + lines + "\","
                    + " \"onBehind\": \"drop\"}", SMALL_JOURNAL);
            for (int i = 0; i < 2_000; i++) {
                assertEquals(200, RawHttpConnection.getVia(daemon.port(), origin.url("/hello?i=" + i)).status(),
                        "a drop sink never turns a request away (request " + i + ")");
            }
            AdminClient admin = AdminClient.asAdmin(stateDir(), daemon.adminPort());
            JsonNode sink = admin.getJson("/api/v1/health").path("sinks").path(0);
            assertTrue(sink.path("skipped").asLong() > 0, sink.toString());
            assertEquals("BEHIND", sink.path("status").asText(), sink.toString());
            JsonNode gap = Poll.forMatch("the sink's gap in the admin trail", DEADLINE,
                    () -> admin.getJson("/api/v1/admin-events"), events -> events.toString().contains("sink.gap"));
            Files.delete(blocker);
            Poll.until("the sink delivering again", DEADLINE, () -> admin.getJson("/api/v1/health").path("sinks")
                    .path(0).path("status").asText().equals("UP"));
            assertEquals(200, RawHttpConnection.getVia(daemon.port(), origin.url("/hello?i=-1")).status());
            daemon.sigterm();
            assertEquals(0, daemon.awaitExit(DEADLINE), daemon.output());

            Map<Long, JsonNode> delivered = accessRecordsBySeq(lines);
            String missing = difference(storedPathsBySeq().keySet(), delivered.keySet());
            Matcher alarm = java.util.regex.Pattern.compile("records (\\d+) to (\\d+) are not delivered")
                    .matcher(gap.toString());
            assertTrue(alarm.find(), gap.toString());
            assertTrue(("1-" + alarm.group(2)).equals(missing) || (alarm.group(1) + "-" + alarm.group(2)).equals(missing),
                    "what the sink lacks (" + missing + ") is what the alarm said it gave up: " + alarm.group());
        }
    }

    @Test
    void theOtlpReceiverGetsEveryStoredRecordAcrossItsOutageAndAKillNine() throws Exception {
        try (OtlpReceiver collector = OtlpReceiver.start()) {
            outageAndKillNine("{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"" + collector.url() + "\"}",
                    collector::stop, collector::restart);
            assertEquals(List.of(), collector.decodeFailures());
            List<JsonNode> delivered = new ArrayList<>();
            for (LogRecord r : collector.logRecords()) {
                delivered.add(JSON.readTree(r.getBody().getStringValue()));
            }
            int duplicates = assertEveryStoredRecordOnce(delivered);
            System.out.printf("OTLP sink across a collector outage and kill -9: %d log records, %d sent twice%n",
                    delivered.size(), duplicates);
        }
    }

    /**
     * Over RELP, which rsyslog acknowledges record by record: plain TCP syslog loses what is in flight when rsyslog
     * stops (no acknowledgement, docs/integrations.md), and fails this test.
     */
    @Test
    void rsyslogGetsEveryStoredRecordAcrossItsOutageAndAKillNine() throws Exception {
        try (RsyslogServer rsyslog = RsyslogServer.relp(dir.resolve("rsyslog"))) {
            outageAndKillNine("{\"name\": \"siem\", \"type\": \"syslog\", \"protocol\": \"relp\", \"host\":"
                    + " \"127.0.0.1\", \"port\": " + rsyslog.port() + "}", rsyslog::stop, rsyslog::restart);
            int stored = storedPathsBySeq().size();
            List<RsyslogServer.Message> messages = Poll.forMatch("rsyslog writing out what it took", DEADLINE,
                    rsyslog::messages, m -> m.size() >= stored);
            List<JsonNode> delivered = new ArrayList<>();
            for (RsyslogServer.Message m : messages) {
                delivered.add(JSON.readTree(m.msgJson()));
            }
            int duplicates = assertEveryStoredRecordOnce(delivered);
            System.out.printf("RELP syslog sink across an rsyslog outage and kill -9: %d messages, %d sent twice%n",
                    delivered.size(), duplicates);
        }
    }

    /** A step of a receiver's outage (stop, start again) that may throw. */
    @FunctionalInterface
    private interface ReceiverStep {
        void run() throws Exception;
    }

    /**
     * A daemon with {@code sink} under load; the receiver goes down, the load goes on, the sink reports FAILING,
     * the daemon is killed (-9) and the receiver comes back; a second daemon on the same state directory takes one
     * more request, catches the sink up and stops. The caller then reads what its receiver got.
     */
    private void outageAndKillNine(String sink, ReceiverStep stopReceiver, ReceiverStep restartReceiver)
            throws Exception {
        try (WebOrigin origin = WebOrigin.plain()) {
            ChildDaemon first = start(sink);
            HelloLoad load = HelloLoad.start(LOAD_CONNECTIONS, first.port(), origin.port());
            try (load) {
                Poll.until(() -> load.completedAtNanos().size() + " requests completed", DEADLINE,
                        () -> load.completedAtNanos().size() >= KILL_AFTER_COMPLETED / 3);
                stopReceiver.run();
                int atOutage = load.completedAtNanos().size();
                Poll.until(() -> load.completedAtNanos().size() + " requests completed", DEADLINE,
                        () -> load.completedAtNanos().size() >= atOutage + KILL_AFTER_COMPLETED);
                JsonNode failing = Poll.forMatch("the sink failing", DEADLINE, () -> AdminClient.asAdmin(stateDir(),
                        first.adminPort()).getJson("/api/v1/health"),
                        h -> h.path("sinks").path(0).path("status").asText().equals("FAILING"));
                assertEquals("DEGRADED", failing.path("status").asText(), failing.toString());
                load.stop();
                first.sigkill();
            }
            assertEquals(List.of(), load.unexpected(), "load errors before the kill");
            assertNotEquals(0, first.awaitExit(DEADLINE), "killed, not stopped");

            restartReceiver.run();
            ChildDaemon second = start(sink);
            assertEquals(200, RawHttpConnection.getVia(second.port(), origin.url("/hello?i=-1")).status());
            AdminClient admin = AdminClient.asAdmin(stateDir(), second.adminPort());
            Poll.forMatch("the sink catching up", DEADLINE, () -> admin.getJson("/api/v1/health"),
                    h -> h.path("sinks").path(0).path("lagRecords").asLong() == 0);
            second.sigterm();
            assertEquals(0, second.awaitExit(DEADLINE), second.output());
            Set<String> stored = new HashSet<>(storedPathsBySeq().values());
            for (Integer i : load.completedAtNanos().keySet()) {
                assertTrue(stored.contains("/hello?i=" + i), "request " + i + " was answered, so it has a row");
            }
        }
    }

    /**
     * Checks what a receiver got against the database the daemon left: every stored row under its number, no
     * number missing between the first and the last, nothing the database lacks, and a record sent twice the same
     * record, chain and all. Returns how many were sent twice.
     */
    private int assertEveryStoredRecordOnce(List<JsonNode> delivered) throws Exception {
        Map<Long, JsonNode> bySeq = new TreeMap<>();
        int duplicates = 0;
        for (JsonNode event : delivered) {
            if (!event.path("type").asText().equals("access")) {
                continue;
            }
            JsonNode before = bySeq.putIfAbsent(event.path("seq").asLong(), event);
            if (before != null) {
                duplicates++;
                assertEquals(before, event, "a record sent twice is the same record, chain and all");
            }
        }
        Map<Long, String> stored = storedPathsBySeq();
        assertEquals("", difference(stored.keySet(), bySeq.keySet()), "stored rows the receiver lacks");
        assertEquals("", difference(bySeq.keySet(), stored.keySet()), "records the receiver has and the database not");
        stored.forEach((seq, path) -> assertEquals(path, bySeq.get(seq).path("path").asText(), "seq " + seq));
        long firstSeq = bySeq.keySet().iterator().next();
        long lastSeq = ((TreeMap<Long, JsonNode>) bySeq).lastKey();
        assertEquals(lastSeq - firstSeq + 1, bySeq.size(), "no number missing");
        return duplicates;
    }

    /** The access records in the sink's files, by number (the last copy of each). */
    private static Map<Long, JsonNode> accessRecordsBySeq(Path lines) throws Exception {
        Map<Long, JsonNode> bySeq = new TreeMap<>();
        if (!Files.exists(lines)) {
            return bySeq;
        }
        for (JsonNode line : readLines(lines)) {
            if (line.path("type").asText().equals("access")) {
                bySeq.put(line.path("seq").asLong(), line);
            }
        }
        return bySeq;
    }

    /** The numbers in {@code a} and not in {@code b}, as ranges ("3-7, 12"), or "" when none. */
    private static String difference(Set<Long> a, Set<Long> b) {
        StringBuilder ranges = new StringBuilder();
        long start = -1;
        long previous = -1;
        for (long n : new TreeSet<>(a)) {
            if (b.contains(n)) {
                continue;
            }
            if (n != previous + 1 && start >= 0) {
                ranges.append(ranges.length() == 0 ? "" : ", ").append(start == previous ? start : start + "-" + previous);
                start = -1;
            }
            start = start < 0 ? n : start;
            previous = n;
        }
        if (start >= 0) {
            ranges.append(ranges.length() == 0 ? "" : ", ").append(start == previous ? start : start + "-" + previous);
        }
        return ranges.toString();
    }

    /** The sink's file and its rotated ones, oldest first. */
    private static List<Path> files(Path lines) throws Exception {
        List<Path> files = new ArrayList<>();
        for (int n = 50; n >= 1; n--) {
            Path rotated = lines.resolveSibling(lines.getFileName() + "." + n);
            if (Files.exists(rotated)) {
                files.add(rotated);
            }
        }
        files.add(lines);
        return files;
    }

    private static List<JsonNode> readLines(Path lines) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        for (Path f : files(lines)) {
            try (Stream<String> text = Files.lines(f)) {
                for (String line : text.toList()) {
                    all.add(JSON.readTree(line));
                }
            }
        }
        return all;
    }

    /** The load's rows in the H2 file the daemon left (it must have stopped), path by journal number. */
    private Map<Long, String> storedPathsBySeq() throws Exception {
        Map<Long, String> rows = new TreeMap<>();
        try (Connection db = DriverManager.getConnection("jdbc:h2:file:" + stateDir().resolve("access")
                + ";IFEXISTS=TRUE", "tollgate", Files.readString(stateDir().resolve(AccessLog.OWNER_PASSWORD_FILE))
                .trim());
             Statement query = db.createStatement();
             ResultSet rs = query.executeQuery("SELECT seq, path FROM access_log")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), rs.getString(2));
            }
        }
        return rows;
    }

    /**
     * A file sink's path that cannot be written yet: a plain file holds its directory's name, so the directory
     * cannot be made (root ignores modes). Deleting that file ({@code getParent()}) ends the outage.
     */
    private Path blockedSinkFile() throws Exception {
        Path blocker = dir.resolve("out");
        Files.writeString(blocker, "not a directory");
        return blocker.resolve("access.jsonl");
    }

    private long journalSegments() throws Exception {
        try (Stream<Path> files = Files.list(stateDir().resolve("journal"))) {
            return files.filter(f -> f.toString().endsWith(".journal")).count();
        }
    }

    private Path stateDir() {
        return dir.resolve("state");
    }

    private ChildDaemon start(String sink) throws Exception {
        return start(sink, "");
    }

    /** Starts the daemon with {@code sink}, and {@code storeKeys} (", key: value", or "") in its store. */
    private ChildDaemon start(String sink, String storeKeys) throws Exception {
        Path config = dir.resolve("tollgate.json");
        Files.writeString(config, "{\n"
                + "  \"stateDir\": \"" + stateDir() + "\",\n"
                + "  \"admin\": {\"port\": 0},\n"
                + "  \"store\": {\"sqlPort\": -1, \"journalSegmentBytes\": 65536" + storeKeys + "},\n"
                + "  \"listeners\": [{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [],"
                + " \"allowLocalHost\": true, \"logQuery\": true}],\n"
                + "  \"sinks\": [" + sink + "]\n"
                + "}\n");
        ChildDaemon child = ChildDaemon.start(dir, config, "256m");
        children.add(child);
        return child;
    }
}
