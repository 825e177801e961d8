package dev.tollgate.daemon.report;

import dev.tollgate.store.AccessSummary.Bucket;
import dev.tollgate.store.AccessSummary.By;
import dev.tollgate.store.AccessSummary.Dimension;
import dev.tollgate.store.AccessSummary.Metric;
import dev.tollgate.store.AccessSummary.Point;
import dev.tollgate.store.AccessSummary.Ranked;
import dev.tollgate.store.AccessSummary.Series;
import dev.tollgate.store.AccessSummary.Top;
import dev.tollgate.testing.CsvRecords;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three forms of a report built by hand: what a client wrote into the log (a host name, a user name) comes out
 * as text in each of them, never as markup, a terminal escape or a broken CSV record.
 */
class ReportFormatTest {

    private static final Instant DAY1 = Instant.parse("2026-11-30T00:00:00Z");
    private static final Instant DAY2 = Instant.parse("2026-12-01T00:00:00Z");
    private static final Instant END = Instant.parse("2026-12-02T00:00:00Z");
    private static final String HOSTILE = "<script>alert(1)</script>\"onload=x ' & \u001b[31mred";

    private final Report report = report();

    @Test
    void htmlShowsAHostileValueAsTextAndFetchesNothing() throws Exception {
        String html = render(ReportFormat.HTML);
        assertFalse(html.contains("<script"), html);
        assertFalse(html.contains("\u001b"), html);
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onload=x &#39; &amp; [31mred"), html);
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("src="), html);
        assertTrue(html.contains("<title>Tollgate access report, 2026-11-30 to 2026-12-01</title>"), html);
    }

    @Test
    void textShowsControlCharactersEscapedAndAlignsColumns() throws Exception {
        String text = render(ReportFormat.TEXT);
        assertFalse(text.contains("\u001b"), text);
        assertTrue(text.contains("\\u001b[31mred"), text);
        assertTrue(text.contains("Requests      1,500 (300 not OK, 20 authentication failures)"), text);
        assertTrue(text.contains("  day         requests  not OK  auth failures  from clients  to clients\n"
                + "  2026-11-30     1,000     100             20       1.0 KiB     2.0 MiB\n"
                + "  2026-12-01       500     200              0         512 B         0 B\n"), text);
    }

    @Test
    void csvKeepsEveryValueWholeAndExact() throws Exception {
        List<List<String>> rows = CsvRecords.parse(render(ReportFormat.CSV));
        assertEquals(List.of("period", "2", "2026-11-30", "", "", "", "", ""), rows.get(1));
        assertEquals(List.of("total", "", "", "1500", "300", "20", "1536", "2097152"), rows.get(2));
        assertEquals(List.of("hosts_by_requests", "1", HOSTILE, "7", "", "", "1", "2"), rows.get(5));
    }

    private String render(ReportFormat format) throws Exception {
        StringWriter out = new StringWriter();
        format.write(report, out);
        return out.toString();
    }

    private static Report report() {
        Point day1 = new Point(DAY1, 1_000, 1_024, 2 * 1024 * 1024, Map.of("OK", 900L, "AUTH_FAILED", 20L,
                "DENIED", 80L));
        Point day2 = new Point(DAY2, 500, 512, 0, Map.of("OK", 300L, "DENIED", 200L));
        Point totals = new Point(DAY1, 1_500, 1_536, 2 * 1024 * 1024, Map.of("OK", 1_200L, "AUTH_FAILED", 20L,
                "DENIED", 280L));
        Top hosts = new Top(Dimension.HOST, Metric.REQUESTS, DAY1, END, List.of(new Ranked(HOSTILE, 7, 1, 2)));
        Top none = new Top(Dimension.USER, Metric.REQUESTS, DAY1, END, List.of());
        return new Report(DAY1, END, END, totals, new Series(Bucket.DAY, By.OUTCOME, DAY1, END, List.of(day1, day2)),
                hosts, hosts, none, none, none, none);
    }
}
