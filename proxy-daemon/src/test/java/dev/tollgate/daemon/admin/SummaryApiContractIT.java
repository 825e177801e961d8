package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;

import static dev.tollgate.daemon.admin.JsonShape.arrayOf;
import static dev.tollgate.daemon.admin.JsonShape.instant;
import static dev.tollgate.daemon.admin.JsonShape.integer;
import static dev.tollgate.daemon.admin.JsonShape.mapOf;
import static dev.tollgate.daemon.admin.JsonShape.object;
import static dev.tollgate.daemon.admin.JsonShape.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract of the summary endpoints ({@code /api/v1/summary/series} and {@code /top}, issue #25), shared with
 * the console: every field and its type, the values after a known set of requests through a real daemon, and the
 * one-line 400s. Who may call them is in AdminAuthIT, with every other read route.
 */
class SummaryApiContractIT extends AdminApiTestBase {

    private static final Set<String> STATUS_KEYS = Set.of("1xx", "2xx", "3xx", "4xx", "5xx", "none");

    private static JsonShape series(Set<String> countKeys) {
        return object()
                .field("bucket", string())
                .field("by", string())
                .field("since", instant())
                .field("until", instant())
                .field("points", arrayOf(object()
                        .field("t", instant())
                        .field("requests", integer())
                        .field("bytesFromClient", integer())
                        .field("bytesToClient", integer())
                        .field("counts", mapOf(integer(), countKeys))));
    }

    private static final JsonShape TOP = object()
            .field("dim", string())
            .field("metric", string())
            .field("since", instant())
            .field("until", instant())
            .field("rows", arrayOf(object()
                    .field("key", string())
                    .field("requests", integer())
                    .field("bytesFromClient", integer())
                    .field("bytesToClient", integer())));

    @Test
    void seriesByOutcomeHasEveryMinuteOfTheRoundedRangeAndCountsTheRequestsMade() throws Exception {
        Instant since = Instant.now().minus(Duration.ofMinutes(10));
        makeTwoRequests();

        JsonNode body = assertOk(200, auditor.get("/api/v1/summary/series?bucket=minute&by=outcome&since=" + since
                + "&until=" + Instant.now().plus(Duration.ofMinutes(1))));

        series(ApiContract.OUTCOMES).assertMatches(body);
        assertEquals("minute", body.get("bucket").textValue());
        assertEquals("outcome", body.get("by").textValue());
        Instant roundedSince = since.truncatedTo(ChronoUnit.MINUTES);
        assertEquals(roundedSince.toString(), body.get("since").textValue());
        JsonNode points = body.get("points");
        assertEquals(Duration.between(roundedSince, Instant.parse(body.get("until").textValue())).toMinutes(),
                points.size(), "one point per minute, empty ones too");
        assertEquals(roundedSince.toString(), points.get(0).get("t").textValue());
        assertEquals(2, sum(points, "requests"));
        assertEquals(14, sum(points, "bytesToClient"), "the bodies \"hello\" and \"not found\"");
        long ok = 0;
        for (JsonNode point : points) {
            ok += point.get("counts").path("OK").asLong();
        }
        assertEquals(2, ok);
    }

    @Test
    void seriesByStatusCountsByStatusClassOverTheDefaultDay() throws Exception {
        makeTwoRequests();

        JsonNode body = assertOk(200, auditor.get("/api/v1/summary/series?by=status"));

        series(STATUS_KEYS).assertMatches(body);
        assertEquals("hour", body.get("bucket").textValue(), "the default bucket");
        long twoXx = 0;
        long fourXx = 0;
        for (JsonNode point : body.get("points")) {
            twoXx += point.get("counts").path("2xx").asLong();
            fourXx += point.get("counts").path("4xx").asLong();
        }
        assertEquals(1, twoXx);
        assertEquals(1, fourXx);
    }

    @Test
    void topRanksTheHostsOfTheLogWithTheirRequestsAndBytes() throws Exception {
        makeTwoRequests();

        // On H2 the key indexer ranks hosts, a round (at most a second) after the writer stored the rows.
        JsonNode body = Poll.forMatch("both requests ranked", () -> assertOk(200,
                auditor.get("/api/v1/summary/top?dim=host&metric=bytes&limit=5")),
                top -> top.get("rows").size() == 1 && top.get("rows").get(0).get("requests").longValue() == 2);

        TOP.assertMatches(body);
        assertEquals("host", body.get("dim").textValue());
        assertEquals("bytes", body.get("metric").textValue());
        assertEquals(1, body.get("rows").size(), body::toString);
        JsonNode row = body.get("rows").get(0);
        assertEquals("127.0.0.1", row.get("key").textValue());
        assertEquals(2, row.get("requests").longValue());
        assertEquals(0, row.get("bytesFromClient").longValue());
        assertEquals(14, row.get("bytesToClient").longValue());
        assertEquals(0, assertOk(200, auditor.get("/api/v1/summary/top?dim=reason")).get("rows").size(),
                "nothing was refused");
    }

    @Test
    void badParametersAre400WithAOneLineReason() throws Exception {
        for (String query : List.of("series?bucket=week", "series?by=host", "series?since=yesterday",
                "series?since=2026-12-06T12:00:00Z&until=2026-12-06T11:00:00Z",
                "series?bucket=minute&since=2026-11-01T00:00:00Z&until=2026-11-09T00:00:00Z",
                "top", "top?dim=path", "top?dim=host&metric=duration", "top?dim=host&limit=0",
                "top?dim=host&limit=1001")) {
            JsonNode error = assertError(400, auditor.get("/api/v1/summary/" + query));
            String message = error.get("error").textValue();
            assertTrue(!message.contains("\n"), () -> query + ": " + message);
        }
        String tooMany = assertError(400, auditor.get("/api/v1/summary/series?bucket=minute"
                + "&since=2026-11-01T00:00:00Z&until=2026-11-09T00:00:00Z")).get("error").textValue();
        assertTrue(tooMany.contains("10080"), tooMany);
    }

    /** A 200 and a 404 from the origin through listener {@code main}, both stored. */
    private void makeTwoRequests() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        assertEquals(404, getThroughProxy("/missing").status());
        tollgate.awaitRows(2);
    }

    private static long sum(JsonNode points, String field) {
        long sum = 0;
        for (JsonNode point : points) {
            sum += point.get(field).longValue();
        }
        return sum;
    }
}
