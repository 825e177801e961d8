package dev.tollgate.daemon.adminops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.adminops.PrometheusText.Sample;
import dev.tollgate.testing.AdminClient.Reply;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /metrics} over real HTTP after known traffic through the proxy: a strict Prometheus text parse,
 * and the counters checked against {@code GET /api/v1/stats}, which consumes the same access records.
 */
class MetricsIT {

    private static final String REQUESTS = "tollgate_requests_total";
    private static final String BYTES = "tollgate_bytes_total";
    private static final String TUNNELS_ACTIVE = "tollgate_tunnels_active";
    private static final String DURATION = "tollgate_request_duration_seconds";
    private static final String WRITTEN = "tollgate_access_log_written_total";
    private static final int FORWARDED = 7;
    private static final int REFUSED = 2;
    /** Forwarded requests, refusals and one tunnel. */
    private static final int RECORDS = FORWARDED + REFUSED + 1;
    private static final String TUNNEL_PAYLOAD = "a few bytes through the tunnel";

    @TempDir
    Path dir;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    private EchoOrigin echo;
    private WebOrigin origin;
    private RunningTollgate tollgate;
    private AdminClient admin;
    private AdminClient auditor;

    @BeforeEach
    void start() throws Exception {
        echo = closed.add(EchoOrigin.start());
        origin = closed.add(WebOrigin.plain());
        // "main" may reach loopback origins and tunnel to the echo server; "strict" keeps the default policy,
        // which refuses loopback destinations with 403.
        tollgate = closed.add(RunningTollgate.startWithConfig(dir, "{\"drainTimeoutMs\": 2000, \"listeners\": ["
                + "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": [" + echo.port()
                + "]}, {\"name\": \"strict\", \"port\": 0}]}"));
        admin = AdminClient.asAdmin(dir, tollgate.adminPort());
        auditor = AdminClient.asAuditor(dir, tollgate.adminPort());
    }

    @Test
    void requestCountersAgreeWithTheStatsByListenerAndStatusClass() throws Exception {
        sendKnownTraffic();
        JsonNode stats = stats();
        PrometheusText metrics = scrape();

        assertEquals(RECORDS, stats.get("totals").get("requests").asLong());
        assertEquals(stats.get("totals").get("requests").asDouble(), metrics.sum(REQUESTS, Map.of()));
        for (Sample sample : metrics.samples(REQUESTS)) {
            assertEquals(Set.of("listener", "kind", "status_class"), sample.labels().keySet(), sample.toString());
        }
        stats.get("totals").get("requestsByStatusClass").fields().forEachRemaining(byClass ->
                assertEquals(byClass.getValue().asDouble(), metrics.sum(REQUESTS, Map.of("status_class",
                        byClass.getKey())), "status class " + byClass.getKey()));
        for (Iterator<Map.Entry<String, JsonNode>> it = stats.get("listeners").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> listener = it.next();
            String name = listener.getKey();
            assertEquals(listener.getValue().get("requests").asDouble(), metrics.sum(REQUESTS,
                    Map.of("listener", name)), "listener " + name);
            listener.getValue().get("requestsByStatusClass").fields().forEachRemaining(byClass ->
                    assertEquals(byClass.getValue().asDouble(), metrics.sum(REQUESTS, Map.of("listener", name,
                            "status_class", byClass.getKey())), name + " " + byClass.getKey()));
        }
        // What was sent, by the labels that tell it apart.
        assertEquals(FORWARDED, metrics.sum(REQUESTS, Map.of("listener", "main", "kind", "FORWARD",
                "status_class", "2xx")));
        assertEquals(1, metrics.sum(REQUESTS, Map.of("listener", "main", "kind", "TUNNEL", "status_class", "2xx")));
        assertEquals(REFUSED, metrics.sum(REQUESTS, Map.of("listener", "strict", "status_class", "4xx")));
    }

    @Test
    void byteCountersAgreeWithTheStatsInEachDirection() throws Exception {
        long tunnelBytes = sendKnownTraffic();
        JsonNode stats = stats();
        PrometheusText metrics = scrape();

        JsonNode totals = stats.get("totals");
        assertEquals(totals.get("bytesFromClients").asDouble(), metrics.sum(BYTES, Map.of("direction",
                "from_client")));
        assertEquals(totals.get("bytesToClients").asDouble(), metrics.sum(BYTES, Map.of("direction",
                "to_client")));
        for (Iterator<Map.Entry<String, JsonNode>> it = stats.get("listeners").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> listener = it.next();
            assertEquals(listener.getValue().get("bytesFromClients").asDouble(), metrics.sum(BYTES,
                    Map.of("listener", listener.getKey(), "direction", "from_client")), listener.getKey());
            assertEquals(listener.getValue().get("bytesToClients").asDouble(), metrics.sum(BYTES,
                    Map.of("listener", listener.getKey(), "direction", "to_client")), listener.getKey());
        }
        // Only the tunnel carried bytes from a client; every "hello" and the tunnel's echo went back.
        assertEquals(tunnelBytes, totals.get("bytesFromClients").asLong());
        assertTrue(totals.get("bytesToClients").asLong() >= FORWARDED * "hello".length() + tunnelBytes,
                totals.toString());
        for (Sample sample : metrics.samples(BYTES)) {
            assertEquals(Set.of("listener", "direction"), sample.labels().keySet(), sample.toString());
        }
    }

    @Test
    void theActiveTunnelsGaugeFollowsTheTunnelsOpenNow() throws Exception {
        try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
            tunnel.roundTrip(TUNNEL_PAYLOAD);
            Poll.until("the stats count the open tunnel",
                    () -> stats().get("totals").get("activeTunnels").asLong() == 1);

            JsonNode stats = stats();
            PrometheusText metrics = scrape();
            assertEquals(1.0, metrics.sum(TUNNELS_ACTIVE, Map.of("listener", "main")));
            assertEquals(stats.get("listeners").get("main").get("activeTunnels").asDouble(),
                    metrics.sum(TUNNELS_ACTIVE, Map.of("listener", "main")));
            assertEquals(stats.get("listeners").get("strict").get("activeTunnels").asDouble(),
                    metrics.sum(TUNNELS_ACTIVE, Map.of("listener", "strict")));
            assertEquals(stats.get("totals").get("activeTunnels").asDouble(), metrics.sum(TUNNELS_ACTIVE, Map.of()));
            assertEquals("gauge", metrics.family(TUNNELS_ACTIVE).type());
        }

        Poll.until("the gauge drops to 0 once the tunnel has closed",
                () -> scrape().sum(TUNNELS_ACTIVE, Map.of()) == 0);
        assertEquals(0, stats().get("totals").get("activeTunnels").asLong());
    }

    @Test
    void accessLogWrittenAgreesWithTheStatsAfterAFlush() throws Exception {
        sendKnownTraffic();
        assertTrue(tollgate.daemon().accessLog().writer().flush(60_000), "the writer did not flush");

        JsonNode stats = stats();
        PrometheusText metrics = scrape();

        assertEquals(RECORDS, stats.get("accessLog").get("written").asLong(), stats.toString());
        assertEquals(stats.get("accessLog").get("written").asDouble(), metrics.sum(WRITTEN, Map.of()));
        assertEquals("counter", metrics.family(WRITTEN).type());
        assertEquals(stats.get("accessLog").get("queueDepth").asDouble(),
                metrics.sum("tollgate_access_log_queue_depth", Map.of()));
    }

    @Test
    void requestDurationIsAHistogramWithBucketsCountAndSumPerSeries() throws Exception {
        sendKnownTraffic();
        PrometheusText metrics = scrape();

        assertEquals("histogram", metrics.family(DURATION).type());
        List<Sample> counts = metrics.samples(DURATION + "_count");
        assertFalse(counts.isEmpty(), "no " + DURATION + "_count");
        assertEquals(RECORDS, counts.stream().mapToDouble(Sample::value).sum());
        for (Sample count : counts) {
            Map<String, String> series = count.labels();
            List<Sample> buckets = new ArrayList<>(metrics.samples(DURATION + "_bucket", s -> {
                Map<String, String> withoutLe = new HashMap<>(s.labels());
                withoutLe.remove("le");
                return withoutLe.equals(series);
            }));
            assertTrue(buckets.size() > 1, "buckets of " + series);
            buckets.sort(Comparator.comparingDouble(s -> le(s.labels().get("le"))));
            for (int i = 1; i < buckets.size(); i++) {
                assertTrue(buckets.get(i).value() >= buckets.get(i - 1).value(), "buckets must not fall: "
                        + buckets);
            }
            Sample last = buckets.get(buckets.size() - 1);
            assertEquals("+Inf", last.labels().get("le"), buckets.toString());
            assertEquals(count.value(), last.value(), "the +Inf bucket counts every observation of " + series);
            List<Sample> sums = metrics.samples(DURATION + "_sum", s -> s.labels().equals(series));
            assertEquals(1, sums.size(), "one _sum for " + series);
            assertTrue(sums.get(0).value() >= 0, sums.toString());
        }
    }

    @Test
    void jvmMetricsAreExposedAlongsideTollgates() throws Exception {
        PrometheusText metrics = scrape();

        List<Sample> memory = metrics.samples("jvm_memory_used_bytes");
        assertFalse(memory.isEmpty(), "no jvm_memory_used_bytes");
        assertEquals(Set.of("heap", "nonheap"), memory.stream().map(s -> s.labels().get("area"))
                .collect(Collectors.toSet()));
        assertTrue(metrics.sum("jvm_memory_used_bytes", Map.of("area", "heap")) > 0);
        assertEquals("gauge", metrics.family("jvm_memory_used_bytes").type());
        assertTrue(metrics.sum("jvm_threads_live_threads", Map.of()) > 0);
    }

    @Test
    void everyFamilyHasATypeAndTheAnswerIsTextFormat004() throws Exception {
        sendKnownTraffic();
        Reply reply = auditor.get("/metrics").expect(200);

        assertEquals("text/plain; version=0.0.4; charset=utf-8", reply.header("Content-Type"));
        PrometheusText metrics = PrometheusText.parse(reply.text());
        for (String family : List.of(REQUESTS, BYTES, TUNNELS_ACTIVE, DURATION, WRITTEN)) {
            assertNotNull(metrics.family(family), family + " has no TYPE line: " + metrics.families().keySet());
            assertNotNull(metrics.family(family).help(), family + " has no HELP line");
        }
    }

    @Test
    void theAuditorAndAdminTokensMayScrapeButNoTokenMayNot() throws Exception {
        auditor.get("/metrics").expect(200);
        admin.get("/metrics").expect(200);

        Reply anonymous = AdminClient.withoutToken(tollgate.adminPort()).get("/metrics").expect(401);
        assertTrue(anonymous.header("WWW-Authenticate").startsWith("Bearer"), anonymous.toString());
        assertTrue(anonymous.json().has("error"), anonymous.toString());
        AdminClient.withToken(tollgate.adminPort(), "not-a-token-of-this-daemon-0123456789abcdef").get("/metrics")
                .expect(401);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /**
     * {@value #FORWARDED} GETs answered 200 on "main", {@value #REFUSED} GETs refused with 403 on "strict" and
     * one tunnel on "main", closed; waits until the stats and the metrics have seen all {@value #RECORDS}
     * records (each consumes them in turn), and returns the tunnel's payload bytes in each direction.
     */
    private long sendKnownTraffic() throws Exception {
        for (int i = 0; i < FORWARDED; i++) {
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), origin.base() + "/hello").status());
        }
        int strict = tollgate.daemon().listenerPort("strict");
        for (int i = 0; i < REFUSED; i++) {
            assertEquals(403, RawHttpConnection.getVia(strict, origin.base() + "/hello").status());
        }
        long tunnelBytes;
        try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
            tunnel.roundTrip(TUNNEL_PAYLOAD);
            tunnelBytes = tunnel.bytesSent();
        }
        Poll.until("stats and metrics have seen " + RECORDS + " records",
                () -> stats().get("totals").get("requests").asLong() == RECORDS
                        && scrape().sum(REQUESTS, Map.of()) == RECORDS);
        return tunnelBytes;
    }

    private JsonNode stats() throws Exception {
        return auditor.get("/api/v1/stats").expect(200).json();
    }

    private PrometheusText scrape() throws Exception {
        return PrometheusText.parse(auditor.get("/metrics").expect(200).text());
    }

    private static double le(String value) {
        return "+Inf".equals(value) ? Double.POSITIVE_INFINITY : Double.parseDouble(value);
    }
}
