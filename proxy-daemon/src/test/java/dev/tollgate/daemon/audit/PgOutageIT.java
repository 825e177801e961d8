package dev.tollgate.daemon.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.PgTestDatabase;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tollgate.testing.AdminClient.HEALTH;
import static dev.tollgate.testing.AdminClient.STATS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * PostgreSQL stopped in the middle of a load on two nodes, then started again (docs/fleet.md, "When PostgreSQL is
 * down"). With the journal as shipped, the records wait in it on disk: nothing is refused and every request has
 * exactly one row afterwards ({@code -Dtollgate.test.pgOutageSeconds=120} makes that outage two minutes; 10 s by
 * default). With the smallest journal, which fills within seconds: node "refusing" ({@code onOverflow: refuse})
 * answers 503 once its queue and journal are full and stores every request it forwarded; node "forwarding"
 * ({@code onOverflow: forward}) keeps forwarding and stores every request but those it counted unlogged. Both
 * report DEGRADED while the database is away, reconnect by themselves, and lose nothing they accepted.
 * <p>
 * Stops and starts the cluster named by {@value #CLUSTER_VARIABLE} ("15 main") with pg_ctlcluster, so it
 * needs root, as .ci/run has; skipped unless that and {@value PgTestDatabase#URL_VARIABLE} are set.
 */
class PgOutageIT {

    static final String CLUSTER_VARIABLE = "TOLLGATE_TEST_PG_CLUSTER";
    private static final int OUTAGE_SECONDS = 10;
    private static final int LONG_OUTAGE_SECONDS = Integer.getInteger("tollgate.test.pgOutageSeconds", OUTAGE_SECONDS);
    /** The smallest journal: four segments of 64 KiB, some 1,000 records past the queue. */
    private static final String SMALL_JOURNAL = ", \"journalSegmentBytes\": 65536, \"journalMaxBytes\": 262144";
    private static final int QUEUE_CAPACITY = 200;
    private static final int CLIENT_THREADS = 4;
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final String REFUSING = "refusing";
    private static final String FORWARDING = "forwarding";

    @TempDir
    Path dir;

    private String[] cluster;
    private PgTestDatabase db;
    private WebOrigin origin;
    private final Map<String, RunningTollgate> nodes = new HashMap<>();
    private boolean stopped;

    @BeforeEach
    void createDatabase() throws Exception {
        db = PgTestDatabase.create();
        String named = System.getenv(CLUSTER_VARIABLE);
        assumeTrue(named != null && named.trim().split("\\s+").length == 2, CLUSTER_VARIABLE + " is not set to"
                + " \"<version> <cluster>\": skipping the outage test, which stops and starts that cluster");
        cluster = named.trim().split("\\s+");
        origin = WebOrigin.plain();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (stopped) {
                pgCtlCluster("start");
            }
        } finally {
            nodes.values().forEach(RunningTollgate::close);
            if (origin != null) {
                origin.close();
            }
            if (db != null) {
                db.close();
            }
        }
    }

    @Test
    void postgresqlAwayUnderLoadRefusesNothingAndEveryRowArrivesOnceFromTheJournal() throws Exception {
        nodes.put(REFUSING, start(REFUSING, "refuse", ""));
        nodes.put(FORWARDING, start(FORWARDING, "forward", ""));
        AdminClient refusingAdmin = AdminClient.asAdmin(dir.resolve(REFUSING), nodes.get(REFUSING).adminPort());
        Load load = new Load();
        load.start();
        try {
            Poll.until("rows stored before the outage", DEADLINE,
                    () -> written(REFUSING) >= 50 && written(FORWARDING) >= 50);
            pgCtlCluster("stop", "-m", "fast");
            long outageEnds = System.nanoTime() + TimeUnit.SECONDS.toNanos(LONG_OUTAGE_SECONDS);
            Poll.forMatch("health DEGRADED while PostgreSQL is down", DEADLINE, () -> refusingAdmin.getJson(HEALTH),
                    h -> "DEGRADED".equals(h.path("status").asText()));
            Poll.until("records past the queue waiting in the journal", DEADLINE,
                    () -> nodes.get(REFUSING).daemon().accessLog().writer().isSpilling());
            Poll.until(LONG_OUTAGE_SECONDS + " s of outage under load", Duration.ofSeconds(LONG_OUTAGE_SECONDS + 60),
                    () -> System.nanoTime() >= outageEnds);
            pgCtlCluster("start");
        } finally {
            load.stop();
        }
        for (RunningTollgate node : nodes.values()) {
            assertTrue(node.daemon().accessLog().writer().flush(DEADLINE.toMillis() * 3),
                    "the writer stored its queue and journal");
        }

        assertEquals(List.of(), List.copyOf(load.errors), "every answer was 200");
        assertEquals(Set.of(), load.refused, "no request refused");
        Map<String, Map<Integer, Integer>> stored = storedRequests("OK");
        for (String node : List.of(REFUSING, FORWARDING)) {
            Map<Integer, Integer> rows = stored.getOrDefault(node, Map.of());
            List<Integer> notOnce = rows.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey)
                    .toList();
            assertEquals(List.of(), notOnce, node + ": requests with more than one row");
            assertEquals(load.forwarded.get(node), rows.keySet(), node + ": one row for each request it forwarded");
        }
        System.out.printf("outage of %d s riding on the journal: %d and %d requests forwarded, all stored once, none"
                + " refused%n", LONG_OUTAGE_SECONDS, load.forwarded.get(REFUSING).size(),
                load.forwarded.get(FORWARDING).size());
    }

    @Test
    void postgresqlAwayForTenSecondsUnderLoadWithASmallJournalLosesNoAcceptedRowOnEitherPolicy() throws Exception {
        nodes.put(REFUSING, start(REFUSING, "refuse", SMALL_JOURNAL));
        nodes.put(FORWARDING, start(FORWARDING, "forward", SMALL_JOURNAL));
        AdminClient refusingAdmin = AdminClient.asAdmin(dir.resolve(REFUSING), nodes.get(REFUSING).adminPort());
        AdminClient forwardingAdmin = AdminClient.asAdmin(dir.resolve(FORWARDING), nodes.get(FORWARDING).adminPort());
        Load load = new Load();
        load.start();
        try {
            Poll.until("rows stored before the outage", DEADLINE,
                    () -> written(REFUSING) >= 50 && written(FORWARDING) >= 50);

            pgCtlCluster("stop", "-m", "fast");
            long outageEnds = System.nanoTime() + TimeUnit.SECONDS.toNanos(OUTAGE_SECONDS);
            Poll.forMatch("health DEGRADED while PostgreSQL is down", DEADLINE, () -> refusingAdmin.getJson(HEALTH),
                    h -> "DEGRADED".equals(h.path("status").asText()));
            Poll.forMatch("health DEGRADED while PostgreSQL is down", DEADLINE, () -> forwardingAdmin.getJson(HEALTH),
                    h -> "DEGRADED".equals(h.path("status").asText()));
            Poll.until("503s from the refusing node once its queue and journal are full", DEADLINE,
                    () -> !load.refused.isEmpty());
            Poll.until(OUTAGE_SECONDS + " s of outage under load", DEADLINE, () -> System.nanoTime() >= outageEnds);
            pgCtlCluster("start");

            Poll.forMatch("health UP again", DEADLINE, () -> refusingAdmin.getJson(HEALTH),
                    h -> "UP".equals(h.path("status").asText()));
            Poll.forMatch("health UP again", DEADLINE, () -> forwardingAdmin.getJson(HEALTH),
                    h -> "UP".equals(h.path("status").asText()));
        } finally {
            load.stop();
        }
        for (RunningTollgate node : nodes.values()) {
            assertTrue(node.daemon().accessLog().writer().flush(DEADLINE.toMillis()), "the writer stored its queue");
        }

        assertEquals(List.of(), List.copyOf(load.errors), "every answer was 200, or 503 from the refusing node");
        Map<String, Map<Integer, Integer>> stored = storedRequests("OK");
        // A 503 is recorded too when the queue has room again by the time its row is made: such rows are the
        // refused requests' own, one each, never a forwarded request's.
        storedRequests("OVERLOADED").forEach((node, rows) -> rows.forEach((i, n) -> {
            assertEquals(REFUSING, node, "OVERLOADED row for request " + i);
            assertEquals(1, n, "OVERLOADED rows for request " + i);
            assertTrue(load.refused.contains(i), "OVERLOADED row for request " + i + ", which was not refused");
        }));
        Map<Integer, Integer> refusingRows = stored.getOrDefault(REFUSING, Map.of());
        refusingRows.forEach((i, n) -> assertEquals(1, n, "rows for request " + i));
        assertEquals(load.forwarded.get(REFUSING), refusingRows.keySet(),
                "the refusing node stored exactly the requests it forwarded, before, during and after the outage");

        Map<Integer, Integer> forwardingRows = stored.getOrDefault(FORWARDING, Map.of());
        forwardingRows.forEach((i, n) -> assertEquals(1, n, "rows for request " + i));
        Set<Integer> forwarded = load.forwarded.get(FORWARDING);
        assertTrue(forwarded.containsAll(forwardingRows.keySet()), "rows only for requests it forwarded");
        int sent = forwarded.size();
        JsonNode stats = Poll.forMatch("stats showing " + sent + " requests", DEADLINE,
                () -> forwardingAdmin.getJson(STATS),
                    s -> s.path("totals").path("requests").asLong() == sent);
        long unlogged = stats.path("accessLog").path("unlogged").asLong();
        assertEquals(sent, forwardingRows.size() + unlogged, "every request the forwarding node forwarded is"
                + " stored or counted unlogged (" + forwardingRows.size() + " stored, " + unlogged + " unlogged)");
        System.out.printf("outage: refusing node stored %d, refused %d with 503; forwarding node stored %d of %d,"
                + " %d unlogged%n", refusingRows.size(), load.refused.size(), forwardingRows.size(), sent, unlogged);
    }

    private RunningTollgate start(String node, String onOverflow, String moreStoreKeys) throws Exception {
        Path stateDir = dir.resolve(node); // the daemon makes it, owner-only
        return RunningTollgate.startWithConfig(stateDir, "{\"nodeName\": \"" + node + "\", \"store\": {"
                + db.storeKeys() + ", \"batchSize\": 50, \"queueCapacity\": " + QUEUE_CAPACITY
                + ", \"onOverflow\": \"" + onOverflow + "\"" + moreStoreKeys
                + "}, \"listeners\": [{\"name\": \"main\", \"port\": 0,"
                + " \"denyDestinations\": [], \"allowLocalHost\": true, \"logQuery\": true}]}");
    }

    private long written(String node) {
        return nodes.get(node).daemon().accessLog().writer().written();
    }

    private void pgCtlCluster(String... action) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("pg_ctlcluster", cluster[0], cluster[1]));
        command.addAll(List.of(action));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + output);
        stopped = action[0].equals("stop");
    }

    /** Node to request number to row count for the rows with {@code outcome}, from PostgreSQL itself. */
    private Map<String, Map<Integer, Integer>> storedRequests(String outcome) throws Exception {
        Map<String, Map<Integer, Integer>> stored = new HashMap<>();
        try (Connection c = db.connect();
             PreparedStatement select = c.prepareStatement("SELECT node, path FROM access_log WHERE outcome = ?")) {
            select.setString(1, outcome);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    String path = rs.getString(2);
                    int i = Integer.parseInt(path.substring(path.indexOf('=') + 1));
                    stored.computeIfAbsent(rs.getString(1), n -> new HashMap<>()).merge(i, 1, Integer::sum);
                }
            }
        }
        return stored;
    }

    /** Client threads sending GETs to both nodes in turn, each numbered, until stopped. */
    private final class Load {
        final Map<String, Set<Integer>> forwarded = Map.of(REFUSING, ConcurrentHashMap.newKeySet(),
                FORWARDING, ConcurrentHashMap.newKeySet());
        final Set<Integer> refused = ConcurrentHashMap.newKeySet();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final ExecutorService threads = Executors.newFixedThreadPool(CLIENT_THREADS);
        private final List<Future<?>> clients = new ArrayList<>();

        void start() {
            for (int t = 0; t < CLIENT_THREADS; t++) {
                clients.add(threads.submit(() -> {
                    while (running.get()) {
                        int i = next.getAndIncrement();
                        String node = i % 2 == 0 ? REFUSING : FORWARDING;
                        send(node, i);
                    }
                    return null;
                }));
            }
        }

        private void send(String node, int i) {
            try {
                RawHttpConnection.Response response =
                        RawHttpConnection.getVia(nodes.get(node).port(), origin.url("/hello?i=" + i));
                if (response.status() == 200) {
                    forwarded.get(node).add(i);
                } else if (response.status() == 503 && node.equals(REFUSING)) {
                    refused.add(i);
                } else {
                    errors.add(node + " request " + i + ": " + response.status() + " " + response.bodyText());
                }
            } catch (IOException e) {
                errors.add(node + " request " + i + ": " + e);
            }
        }

        void stop() throws Exception {
            running.set(false);
            for (Future<?> client : clients) {
                client.get(60, TimeUnit.SECONDS);
            }
            threads.shutdownNow();
        }
    }
}
