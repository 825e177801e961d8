package dev.tollgate.daemon.adminops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessLogWriter;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.AdminClient.Reply;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.CsvRecords;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.RawOrigin;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /api/v1/access-log} over real HTTP against rows left by real traffic through the proxy (hosts,
 * methods, statuses, listeners, a tunnel, refusals) and by records handed straight to the daemon's writer
 * (old timestamps, other clients, proxy users, subdomains, awkward text, volume). Every filter is checked
 * against the rows the store holds, read apart from the API.
 */
class AccessLogApiIT {

    private static final String ACCESS_LOG = "/api/v1/access-log";
    private static final List<String> COLUMNS = List.of("id", "ts", "duration_ms", "node", "listener",
            "client_addr", "client_port", "username", "kind", "protocol", "method", "host", "port", "path", "status",
            "bytes_from_client", "bytes_to_client", "upstream_addr", "sni", "outcome", "reason", "alpn", "tls_version",
            "ja4");
    /** Rows {@link #sendMixedTraffic()} leaves. */
    private static final int TRAFFIC_ROWS = 12;
    /** Rows {@link #seedVariedRecords()} leaves. */
    private static final int VARIED_ROWS = 6;
    private static final String SEEDED = "seeded";
    private static final long WRITER_FLUSH_MS = 120_000;

    @TempDir
    Path dir;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    private EchoOrigin echo;
    private WebOrigin origin;
    private RunningTollgate tollgate;
    private AdminClient auditor;

    @BeforeEach
    void start() throws Exception {
        echo = closed.add(EchoOrigin.start());
        origin = closed.add(WebOrigin.plain());
        // "main" may reach loopback origins and tunnel to the echo server; "strict" keeps the default policy,
        // which refuses loopback destinations with 403. No retention: the seeded rows are years old, and the
        // first purge, 10 s after start, deleted 10,000 of them under a slow test in a full run.
        tollgate = closed.add(RunningTollgate.startWithConfig(dir, "{\"drainTimeoutMs\": 2000,"
                + " \"store\": {\"retentionDays\": 0}, \"listeners\": ["
                + "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": [" + echo.port()
                + "]}, {\"name\": \"strict\", \"port\": 0}]}"));
        auditor = AdminClient.asAuditor(dir, tollgate.adminPort());
    }

    // ---- filters -------------------------------------------------------------------------------------------

    @Test
    void sinceIsInclusiveAndUntilExclusive() throws Exception {
        seedBoth();

        assertFilter("since=2021-03-01T10:01:00Z&until=2021-03-01T10:03:00Z",
                r -> r.tsMs() >= ms("2021-03-01T10:01:00Z") && r.tsMs() < ms("2021-03-01T10:03:00Z"), 2);
        assertFilter("since=2021-03-01T10:03:00Z", r -> r.tsMs() >= ms("2021-03-01T10:03:00Z"),
                3 + TRAFFIC_ROWS);
        assertFilter("until=2021-03-01T10:01:00Z", r -> r.tsMs() < ms("2021-03-01T10:01:00Z"), 1);
        assertFilter("since=2021-03-01T10:05:00.001Z&until=2026-01-01T00:00:00Z", r -> false, 0);
    }

    @Test
    void hostMatchesOneHostExactlyOrAnySubdomainWithALeadingStar() throws Exception {
        seedBoth();

        assertFilter("host=example.com", r -> "example.com".equals(r.host()), 1);
        assertFilter("host=a.example.com", r -> "a.example.com".equals(r.host()), 1);
        // Subdomains at any depth; not example.com itself, not badexample.com, not example.com.evil.net.
        assertFilter("host=*.example.com", r -> r.host() != null && r.host().endsWith(".example.com"), 3);
        assertFilter("host=127.0.0.1", r -> "127.0.0.1".equals(r.host()), TRAFFIC_ROWS);
        assertFilter("host=nowhere.example.com", r -> false, 0);
    }

    @Test
    void clientMatchesTheClientAddressExactly() throws Exception {
        seedBoth();

        assertFilter("client=10.0.0.7", r -> "10.0.0.7".equals(r.clientAddr()), 2);
        assertFilter("client=127.0.0.1", r -> "127.0.0.1".equals(r.clientAddr()), TRAFFIC_ROWS);
    }

    @Test
    void methodSelectsGetPostOrConnect() throws Exception {
        seedBoth();

        assertFilter("method=POST", r -> "POST".equals(r.method()), 3);
        assertFilter("method=CONNECT", r -> "CONNECT".equals(r.method()), 2);
        assertFilter("method=GET", r -> "GET".equals(r.method()), 8 + 5);
    }

    @Test
    void statusSelectsOneCodeOrAClass() throws Exception {
        seedBoth();

        assertFilter("status=404", r -> r.status() == 404, 2);
        assertFilter("status=403", r -> r.status() == 403, 3);
        assertFilter("status=5xx", r -> r.status() >= 500 && r.status() < 600, 2);
        assertFilter("status=4xx", r -> r.status() >= 400 && r.status() < 500, 6);
        assertFilter("status=2xx", r -> r.status() >= 200 && r.status() < 300, 6 + 4);
    }

    @Test
    void listenerSelectsTheRowsOfOneListener() throws Exception {
        seedBoth();

        assertFilter("listener=strict", r -> "strict".equals(r.listener()), 2);
        assertFilter("listener=main", r -> "main".equals(r.listener()), TRAFFIC_ROWS - 2);
        assertFilter("listener=" + SEEDED, r -> SEEDED.equals(r.listener()), VARIED_ROWS);
    }

    @Test
    void usernameSelectsTheRowsOfOneProxyUser() throws Exception {
        seedBoth();

        assertFilter("username=alice", r -> "alice".equals(r.username()), 3);
        assertFilter("username=bob", r -> "bob".equals(r.username()), 1);
        assertFilter("username=mallory", r -> false, 0);
    }

    @Test
    void outcomeSelectsHowRequestsEnded() throws Exception {
        seedBoth();

        assertFilter("outcome=DENIED", r -> r.outcome() == Outcome.DENIED, 3);
        assertFilter("outcome=UPSTREAM_UNREACHABLE", r -> r.outcome() == Outcome.UPSTREAM_UNREACHABLE, 1);
        assertFilter("outcome=AUTH_REQUIRED", r -> r.outcome() == Outcome.AUTH_REQUIRED, 1);
        assertFilter("outcome=OK", r -> r.outcome() == Outcome.OK, 8 + 4);
    }

    @Test
    void kindSelectsForwardedRequestsTunnelsOrInterceptedRequests() throws Exception {
        seedBoth();

        assertFilter("kind=TUNNEL", r -> r.kind() == Kind.TUNNEL, 2);
        assertFilter("kind=INTERCEPT", r -> r.kind() == Kind.INTERCEPT, 1);
        assertFilter("kind=FORWARD", r -> r.kind() == Kind.FORWARD, TRAFFIC_ROWS - 2 + VARIED_ROWS - 1);
    }

    @Test
    void filtersCombineAndEveryOneMustMatch() throws Exception {
        seedBoth();

        assertFilter("listener=main&method=GET&status=4xx",
                r -> "main".equals(r.listener()) && "GET".equals(r.method()) && r.status() / 100 == 4, 2);
        assertFilter("host=*.example.com&username=alice&until=2021-03-01T10:05:00Z",
                r -> r.host() != null && r.host().endsWith(".example.com") && "alice".equals(r.username())
                        && r.tsMs() < ms("2021-03-01T10:05:00Z"), 1);
    }

    // ---- limit and paging ----------------------------------------------------------------------------------

    @Test
    void aPageHoldsOneHundredRowsByDefaultAndAtMostTenThousand() throws Exception {
        seedFiller(10_050, i -> 200);
        List<Long> ids = storedIds(r -> true);

        JsonNode firstPage = auditor.get(ACCESS_LOG).expect(200).json();
        assertEquals(ids.subList(0, 100), ids(firstPage));
        assertEquals(ids.get(99), firstPage.get("next").asLong());

        JsonNode largest = auditor.get(ACCESS_LOG + "?limit=10000").expect(200).json();
        assertEquals(ids.subList(0, 10_000), ids(largest));
        assertEquals(ids.get(9_999), largest.get("next").asLong());

        assertRefused("limit=10001", "limit");
    }

    @Test
    void theAfterCursorPagesThroughEveryRowOnceInIdOrder() throws Exception {
        seedFiller(1_234, i -> i % 3 == 0 ? 404 : 200);

        List<Long> all = walk("limit=100", 100);
        assertEquals(storedIds(r -> true), all);

        List<Long> notFound = walk("status=404&limit=37", 37);
        assertEquals(storedIds(r -> r.status() == 404), notFound);
        assertEquals(412, notFound.size());
    }

    @Test
    void aCursorPastTheLastRowGivesAnEmptyLastPage() throws Exception {
        seedFiller(5, i -> 200);
        long last = storedIds(r -> true).get(4);

        JsonNode page = auditor.get(ACCESS_LOG + "?after=" + last).expect(200).json();
        assertEquals(0, page.get("records").size(), page.toString());
        assertTrue(page.get("next").isNull(), page.toString());
        // Ids are 64-bit: a cursor beyond the range of an int is still a cursor, not a bad value.
        page = auditor.get(ACCESS_LOG + "?after=" + (1L << 32)).expect(200).json();
        assertEquals(0, page.get("records").size(), page.toString());
    }

    @Test
    void badValuesAreRefusedWith400NamingTheParameter() throws Exception {
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("since=yesterday", "since");
        cases.put("until=2021-13-01T00:00:00Z", "until");
        cases.put("since=2021-03-02T00:00:00Z&until=2021-03-01T00:00:00Z", "until");
        cases.put("host=" + enc("*example.com"), "host");
        cases.put("host=" + enc("a.*.com"), "host");
        cases.put("status=abc", "status");
        cases.put("status=99", "status");
        cases.put("status=600", "status");
        cases.put("status=6xx", "status");
        cases.put("outcome=FINE", "outcome");
        cases.put("kind=UDP", "kind");
        cases.put("limit=0", "limit");
        cases.put("limit=-5", "limit");
        cases.put("limit=10001", "limit");
        cases.put("limit=ten", "limit");
        cases.put("after=-1", "after");
        cases.put("after=last", "after");
        cases.put("hots=example.com", "hots");
        List<Executable> checks = new ArrayList<>();
        cases.forEach((query, parameter) -> checks.add(() -> assertRefused(query, parameter)));
        assertAll(checks);
    }

    // ---- CSV -----------------------------------------------------------------------------------------------

    @Test
    void csvHasTheColumnNamesThenOneCrlfEndedLinePerRowWithTheValuesOfTheJson() throws Exception {
        seedBoth();

        Reply csv = auditor.get(ACCESS_LOG, "text/csv").expect(200);

        assertTrue(csv.header("Content-Type").startsWith("text/csv"), csv.header("Content-Type"));
        assertTrue(csv.text().startsWith(String.join(",", COLUMNS) + "\r\n"), csv.text());
        List<List<String>> records = CsvRecords.parse(csv.text());
        assertEquals(COLUMNS, records.get(0));
        JsonNode json = auditor.get(ACCESS_LOG + "?limit=10000").expect(200).json().get("records");
        assertEquals(json.size() + 1, records.size(), csv.text());
        for (int i = 0; i < json.size(); i++) {
            JsonNode row = json.get(i);
            List<String> fields = records.get(i + 1);
            assertEquals(COLUMNS.size(), fields.size(), fields.toString());
            for (int c = 0; c < COLUMNS.size(); c++) {
                JsonNode value = row.get(COLUMNS.get(c));
                assertEquals(value.isNull() ? "" : value.asText(), fields.get(c),
                        "column " + COLUMNS.get(c) + " of row " + row);
            }
        }
    }

    @Test
    void csvQuotesFieldsHoldingCommasQuotesAndLineBreaks() throws Exception {
        String path = "/search,with \"quotes\"\nand a second line";
        String reason = "refused, because \"policy\" said so\r\nthen \"\" twice";
        writeDirectly(List.of(new Seed().listener("quoting").path(path).status(403).outcome(Outcome.DENIED)
                .reason(reason).build()));

        Reply csv = auditor.get(ACCESS_LOG + "?listener=quoting", "text/csv").expect(200);

        List<List<String>> records = CsvRecords.parse(csv.text());
        assertEquals(2, records.size(), csv.text());
        List<String> row = records.get(1);
        assertEquals(path, row.get(COLUMNS.indexOf("path")));
        assertEquals(reason, row.get(COLUMNS.indexOf("reason")));
        assertTrue(csv.text().contains(",\"/search,with \"\"quotes\"\"\nand a second line\","), csv.text());
        assertTrue(csv.text().contains(",\"refused, because \"\"policy\"\" said so\r\nthen \"\"\"\" twice\",,,\r\n"),
                csv.text());
    }

    @Test
    void csvWithALimitHoldsOnePage() throws Exception {
        seedFiller(150, i -> 200);
        List<Long> ids = storedIds(r -> true);

        Reply csv = auditor.get(ACCESS_LOG + "?limit=10&after=" + ids.get(19), "text/csv").expect(200);

        List<List<String>> records = CsvRecords.parse(csv.text());
        assertEquals(11, records.size(), csv.text());
        for (int i = 0; i < 10; i++) {
            assertEquals(Long.toString(ids.get(20 + i)), records.get(i + 1).get(0));
        }
    }

    @Test
    void csvExportWithoutALimitStreamsEveryMatchingRow() throws Exception {
        int rows = 50_000;
        seedFiller(rows, i -> 200);
        List<Long> ids = storedIds(r -> true);
        assertEquals(rows, ids.size());

        HttpResponse<InputStream> response = auditor.stream(ACCESS_LOG, "text/csv");
        assertEquals(200, response.statusCode());
        long count = 0;
        long previousId = 0;
        try (Reader body = new InputStreamReader(response.body(), StandardCharsets.UTF_8)) {
            CsvRecords csv = new CsvRecords(body);
            assertEquals(COLUMNS, csv.next());
            List<String> record;
            while ((record = csv.next()) != null) {
                assertEquals(COLUMNS.size(), record.size(), record.toString());
                long id = Long.parseLong(record.get(0));
                assertTrue(id > previousId, "ids must rise: " + previousId + " then " + id);
                previousId = id;
                count++;
            }
        }
        assertEquals(rows, count);
        assertEquals(ids.get(ids.size() - 1), previousId);
    }

    // ---- seeding -------------------------------------------------------------------------------------------

    /** Real traffic and records handed straight to the writer: the data set of the filter tests. */
    private void seedBoth() throws Exception {
        sendMixedTraffic();
        seedVariedRecords();
        assertEquals(TRAFFIC_ROWS + VARIED_ROWS, tollgate.rows().size(), tollgate.rows().toString());
    }

    /**
     * {@value #TRAFFIC_ROWS} requests through the proxy, each leaving one row with host 127.0.0.1 and client
     * 127.0.0.1: on "main" 3 GET 200, 2 POST 200, 2 GET 404, 1 GET 502 (nothing listens), 1 tunnel and 1
     * CONNECT refused with 403 (port not allowed); on "strict" 2 GET refused with 403.
     */
    private void sendMixedTraffic() throws Exception {
        int main = tollgate.port();
        int strict = tollgate.daemon().listenerPort("strict");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, RawHttpConnection.getVia(main, origin.base() + "/hello").status());
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(200, RawHttpConnection.postVia(main, origin.base() + "/echo", "posted " + i).status());
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(404, RawHttpConnection.getVia(main, origin.base() + "/missing/" + i).status());
        }
        assertEquals(502, RawHttpConnection.getVia(main,
                "http://127.0.0.1:" + RawOrigin.closedPort() + "/gone").status());
        try (RawTunnel tunnel = RawTunnel.established(main, echo.port())) {
            tunnel.roundTrip("through the tunnel");
        }
        assertEquals(403, RawTunnel.refusedStatus(main, origin.port()));
        for (int i = 0; i < 2; i++) {
            assertEquals(403, RawHttpConnection.getVia(strict, origin.base() + "/hello").status());
        }
        tollgate.awaitRows(TRAFFIC_ROWS);
    }

    /**
     * {@value #VARIED_ROWS} rows of listener "seeded", one a minute from 2021-03-01T10:00:00Z, with what real
     * traffic on loopback cannot make: other clients, proxy users, subdomains, an intercepted request.
     */
    private void seedVariedRecords() throws Exception {
        writeDirectly(List.of(
                new Seed().at("2021-03-01T10:00:00Z").host("example.com").client("10.0.0.7").user("alice").build(),
                new Seed().at("2021-03-01T10:01:00Z").host("a.example.com").client("10.0.0.7").user("bob").build(),
                new Seed().at("2021-03-01T10:02:00Z").host("b.c.example.com").client("10.0.0.70").user("alice")
                        .method("POST").status(201).build(),
                new Seed().at("2021-03-01T10:03:00Z").host("badexample.com").client("10.0.0.8").status(504)
                        .outcome(Outcome.UPSTREAM_TIMEOUT).reason("no answer within 10000 ms").build(),
                new Seed().at("2021-03-01T10:04:00Z").host("example.com.evil.net").client("10.0.0.8").user("alice")
                        .status(407).outcome(Outcome.AUTH_REQUIRED).reason("no Proxy-Authorization").build(),
                new Seed().at("2021-03-01T10:05:00Z").host("secure.example.com").kind(Kind.INTERCEPT).port(443)
                        .build()));
    }

    /** {@code count} plain rows straight through the writer, with the status {@code statusOf} gives each. */
    private void seedFiller(int count, java.util.function.IntUnaryOperator statusOf) throws Exception {
        List<AccessRecord> records = new ArrayList<>(count);
        long start = ms("2024-06-01T00:00:00Z");
        for (int i = 0; i < count; i++) {
            records.add(new Seed().atMs(start + i).listener("filler").host("filler.test").path("/item/" + i)
                    .status(statusOf.applyAsInt(i)).build());
        }
        writeDirectly(records);
    }

    private void writeDirectly(List<AccessRecord> records) throws Exception {
        AccessLogWriter writer = tollgate.daemon().accessLog().writer();
        for (AccessRecord record : records) {
            writer.append(record);
        }
        assertTrue(writer.flush(WRITER_FLUSH_MS), "the writer did not store the seeded records");
    }

    // ---- checks --------------------------------------------------------------------------------------------

    /**
     * The API's answer to {@code query} is exactly the stored rows {@code expected} selects, in id order, and
     * there are {@code count} of them (so that the filter is known to select something and leave something).
     */
    private void assertFilter(String query, Predicate<AccessRecord> expected, int count) throws Exception {
        List<Long> want = storedIds(expected);
        JsonNode page = auditor.get(ACCESS_LOG + "?" + query + "&limit=10000").expect(200).json();
        assertEquals(want, ids(page), query + " -> " + page);
        assertEquals(count, want.size(), query + ": the data set has not the rows this check expects");
        assertTrue(page.get("next").isNull(), query + " -> " + page);
    }

    private void assertRefused(String query, String parameter) throws Exception {
        Reply reply = auditor.get(ACCESS_LOG + "?" + query);
        assertEquals(400, reply.status(), reply.toString());
        assertTrue(reply.header("Content-Type").startsWith("application/json"), reply.toString());
        JsonNode error = reply.json().get("error");
        assertNotNull(error, reply.toString());
        assertTrue(error.asText().contains(parameter), query + ": the message must name " + parameter + ": "
                + error.asText());
    }

    /** Follows {@code next} from the first page to the last, checking each page, and returns every id seen. */
    private List<Long> walk(String query, int limit) throws Exception {
        List<Long> seen = new ArrayList<>();
        Set<Long> unique = new HashSet<>();
        String after = "";
        while (true) {
            JsonNode page = auditor.get(ACCESS_LOG + "?" + query + after).expect(200).json();
            List<Long> ids = ids(page);
            for (Long id : ids) {
                assertTrue(unique.add(id), "row " + id + " came twice");
                assertTrue(seen.isEmpty() || id > seen.get(seen.size() - 1), "ids must rise across pages");
            }
            seen.addAll(ids);
            JsonNode next = page.get("next");
            if (next.isNull()) {
                assertTrue(ids.size() < limit, "a full page must name the next cursor: " + page);
                return seen;
            }
            assertEquals(limit, ids.size(), "only a full page has a next cursor");
            assertEquals(ids.get(ids.size() - 1), next.asLong());
            after = "&after=" + next.asLong();
        }
    }

    private List<Long> storedIds(Predicate<AccessRecord> filter) throws Exception {
        return tollgate.rows().stream().filter(filter).map(AccessRecord::id).toList();
    }

    private static List<Long> ids(JsonNode page) {
        List<Long> ids = new ArrayList<>();
        page.get("records").forEach(record -> ids.add(record.get("id").asLong()));
        assertFalse(ids.contains(0L), page.toString());
        return ids;
    }

    private static long ms(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** An access record for the writer, plain unless told otherwise. */
    private static final class Seed {
        private long tsMs = ms("2021-03-01T12:00:00Z");
        private String listener = SEEDED;
        private String client = "10.0.0.1";
        private String username;
        private Kind kind = Kind.FORWARD;
        private String method = "GET";
        private String host = "seeded.test";
        private int port = 80;
        private String path = "/";
        private int status = 200;
        private Outcome outcome = Outcome.OK;
        private String reason;

        Seed at(String instant) {
            tsMs = ms(instant);
            return this;
        }

        Seed atMs(long value) {
            tsMs = value;
            return this;
        }

        Seed listener(String value) {
            listener = value;
            return this;
        }

        Seed client(String value) {
            client = value;
            return this;
        }

        Seed user(String value) {
            username = value;
            return this;
        }

        Seed kind(Kind value) {
            kind = value;
            return this;
        }

        Seed method(String value) {
            method = value;
            return this;
        }

        Seed host(String value) {
            host = value;
            return this;
        }

        Seed port(int value) {
            port = value;
            return this;
        }

        Seed path(String value) {
            path = value;
            return this;
        }

        Seed status(int value) {
            status = value;
            return this;
        }

        Seed outcome(Outcome value) {
            outcome = value;
            return this;
        }

        Seed reason(String value) {
            reason = value;
            return this;
        }

        AccessRecord build() {
            return new AccessRecord(null, tsMs, 12, "seed-node", listener, client, 40_000, username, kind,
                    "HTTP/1.1", method, host, port, path, status, 0, 2, "192.0.2.1", null, outcome, reason);
        }
    }
}
