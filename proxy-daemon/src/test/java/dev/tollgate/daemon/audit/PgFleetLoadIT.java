package dev.tollgate.daemon.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.PgTestDatabase;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fleet of two daemons (nodes "node-a" and "node-b", in this JVM, each with its own listener and admin API)
 * started at the same moment against one fresh PostgreSQL database, then loaded together: each node's rows in
 * the shared access_log are exactly the requests it served, and either node's admin API finds the other's.
 */
class PgFleetLoadIT {

    private static final int REQUESTS_PER_NODE = 1_000;
    private static final int CLIENT_THREADS = 8;
    private static final String[] NODES = {"node-a", "node-b"};

    @TempDir
    Path dir;

    private PgTestDatabase db;
    private WebOrigin origin;
    private final List<RunningTollgate> nodes = new ArrayList<>();

    @BeforeEach
    void createDatabase() throws Exception {
        db = PgTestDatabase.create();
        origin = WebOrigin.plain();
    }

    @AfterEach
    void stop() throws Exception {
        nodes.forEach(RunningTollgate::close);
        if (origin != null) {
            origin.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    void twoNodesStartingTogetherAndLoadedTogetherEachStoreExactlyTheRequestsTheyServed() throws Exception {
        startTogether();
        Map<String, Set<Integer>> served = new TreeMap<>();
        for (String node : NODES) {
            served.put(node, new ConcurrentSkipListSet<>());
        }

        ExecutorService clients = Executors.newFixedThreadPool(CLIENT_THREADS);
        try {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < REQUESTS_PER_NODE * NODES.length; i++) {
                int request = i;
                int node = i % NODES.length;
                sent.add(clients.submit(() -> {
                    RawHttpConnection.Response response = RawHttpConnection.getVia(nodes.get(node).port(),
                            origin.url("/hello?i=" + request));
                    assertEquals(200, response.status(), "request " + request + ": " + response.bodyText());
                    served.get(NODES[node]).add(request);
                    return null;
                }));
            }
            for (Future<?> f : sent) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        for (RunningTollgate node : nodes) {
            assertTrue(node.daemon().accessLog().writer().flush(60_000), "the writer stored its queue");
        }

        Map<String, Set<Integer>> stored = storedRequestsByNode();
        assertEquals(served.keySet(), stored.keySet(), "rows of both nodes and no other");
        for (String node : NODES) {
            assertEquals(REQUESTS_PER_NODE, served.get(node).size());
            assertEquals(served.get(node), stored.get(node), node + ": one row per request it served, no other");
        }
        assertEquals(REQUESTS_PER_NODE * NODES.length, rowCount(), "no duplicate rows");
        // One log for the auditors: either node's admin API answers with the rows of both.
        for (int i = 0; i < NODES.length; i++) {
            Map<String, Integer> perNode = new TreeMap<>();
            accessLogQuery(i, "").path("records").forEach(r -> perNode.merge(r.path("node").asText(), 1, Integer::sum));
            assertEquals(Map.of(NODES[0], REQUESTS_PER_NODE, NODES[1], REQUESTS_PER_NODE), perNode,
                    "through " + NODES[i] + "'s admin API");
        }
        JsonNode onlyB = accessLogQuery(0, "&node=" + NODES[1]);
        assertEquals(REQUESTS_PER_NODE, onlyB.path("records").size(), "node=" + NODES[1] + " through " + NODES[0]);
        onlyB.path("records").forEach(r -> assertEquals(NODES[1], r.path("node").asText(), r.toString()));
    }

    private void startTogether() throws Exception {
        CyclicBarrier together = new CyclicBarrier(NODES.length);
        ExecutorService starters = Executors.newFixedThreadPool(NODES.length);
        try {
            List<Future<RunningTollgate>> starting = new ArrayList<>();
            for (String node : NODES) {
                Path stateDir = dir.resolve(node); // the daemon makes it, owner-only
                String config = "{\"nodeName\": \"" + node + "\", \"store\": {" + db.storeKeys()
                        + ", \"batchSize\": 100}, \"listeners\": [{\"name\": \"main\", \"port\": 0,"
                        + " \"denyDestinations\": [], \"allowLocalHost\": true, \"logQuery\": true}]}";
                starting.add(starters.submit(() -> {
                    together.await(30, TimeUnit.SECONDS);
                    return RunningTollgate.startWithConfig(stateDir, config);
                }));
            }
            for (Future<RunningTollgate> f : starting) {
                nodes.add(f.get(120, TimeUnit.SECONDS));
            }
        } finally {
            starters.shutdownNow();
        }
    }

    private Map<String, Set<Integer>> storedRequestsByNode() throws Exception {
        Map<String, Set<Integer>> stored = new TreeMap<>();
        try (Connection c = db.connect();
             PreparedStatement select = c.prepareStatement("SELECT node, path FROM access_log");
             ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
                String path = rs.getString(2);
                stored.computeIfAbsent(rs.getString(1), n -> new TreeSet<>())
                        .add(Integer.parseInt(path.substring(path.indexOf('=') + 1)));
            }
        }
        return stored;
    }

    private long rowCount() throws Exception {
        try (Connection c = db.connect();
             PreparedStatement select = c.prepareStatement("SELECT COUNT(*) FROM access_log");
             ResultSet rs = select.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The rows (up to 10,000) of {@code filter} through node {@code index}'s admin API, as the auditor. */
    private JsonNode accessLogQuery(int index, String filter) throws Exception {
        RunningTollgate via = nodes.get(index);
        return AdminClient.asAuditor(dir.resolve(NODES[index]), via.adminPort())
                .getJson("/api/v1/access-log?limit=10000" + filter);
    }
}
