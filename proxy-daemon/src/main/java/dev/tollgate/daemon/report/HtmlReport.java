package dev.tollgate.daemon.report;

import dev.tollgate.store.AccessSummary.Point;
import dev.tollgate.store.AccessSummary.Ranked;
import dev.tollgate.store.AccessSummary.Top;

import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import static dev.tollgate.daemon.report.ReportFormat.bytes;
import static dev.tollgate.daemon.report.ReportFormat.count;

/**
 * {@link ReportFormat#HTML}: one page that a mail client or a browser shows as it is, offline: the CSS inline, the
 * charts inline SVG, no script, no image or font fetched from anywhere. Every value from the log (hosts, users,
 * reasons: what clients wrote) is escaped, so a hostile host name is shown, never run. Each chart has its table of
 * numbers beside it, for screen readers and for copying.
 */
final class HtmlReport {

    private static final String STYLE = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;"
            + "padding:0 1em;color:#1b1f24}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}"
            + "table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;text-align:right}"
            + "td.k,th.k{text-align:left;max-width:30em;overflow-wrap:anywhere}tr:nth-child(even){background:#f3f5f7}"
            + ".cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #d0d7de;border-radius:6px;"
            + "padding:.6em 1em}.card b{display:block;font-size:1.4em}.ok{fill:#3b6fb6}.bad{fill:#d9822b}"
            + ".bar{fill:#3b6fb6}svg text{font-size:11px;fill:#57606a}";
    private static final int CHART_WIDTH = 720;
    private static final int CHART_HEIGHT = 180;
    private static final int BAR_WIDTH = 160;

    private HtmlReport() {
    }

    static void write(Report r, Writer out) throws IOException {
        String period = TextReport.day(r.since()) + " to " + TextReport.day(r.until().minus(Duration.ofDays(1)));
        Point t = r.totals();
        out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                + "<title>Tollgate access report, " + period + "</title><style>" + STYLE + "</style></head><body>\n");
        out.write("<h1>Tollgate access report, " + period + "</h1>\n<p>UTC, whole days. Made " + r.made()
                + " from the access log's roll-ups.</p>\n<div class=\"cards\">"
                + card("requests", count(t.requests())) + card("not OK", count(Report.notOk(t)))
                + card("authentication failures", count(Report.authFailures(t)))
                + card("from clients", bytes(t.bytesFromClient())) + card("to clients", bytes(t.bytesToClient()))
                + "</div>\n");
        out.write("<h2>Daily volume</h2>\n<p><svg width=\"10\" height=\"10\" aria-hidden=\"true\">"
                + rect("ok", 0, 0, 10, 10) + "</svg> OK <svg width=\"10\" height=\"10\" aria-hidden=\"true\">"
                + rect("bad", 0, 0, 10, 10) + "</svg> not OK (refused, failed upstream, cut by the client)</p>\n");
        out.write(dailyChart(r.days().points()));
        out.write("<table><tr><th class=\"k\">day</th><th>requests</th><th>not OK</th><th>auth failures</th>"
                + "<th>from clients</th><th>to clients</th></tr>\n");
        for (Point p : r.days().points()) {
            out.write("<tr><td class=\"k\">" + TextReport.day(p.t()) + "</td><td>" + count(p.requests()) + "</td><td>"
                    + count(Report.notOk(p)) + "</td><td>" + count(Report.authFailures(p)) + "</td><td>"
                    + bytes(p.bytesFromClient()) + "</td><td>" + bytes(p.bytesToClient()) + "</td></tr>\n");
        }
        out.write("</table>\n");
        top(out, "Top sites by requests", "host", r.hostsByRequests(), false);
        top(out, "Top sites by bytes", "host", r.hostsByBytes(), true);
        top(out, "Top users by requests", "user", r.usersByRequests(), false);
        top(out, "Top users by bytes", "user", r.usersByBytes(), true);
        top(out, "Top clients by requests", "client", r.clientsByRequests(), false);
        top(out, "Refusals and failures by rule", "outcome: reason", r.refusals(), false);
        out.write("</body></html>\n");
    }

    private static String card(String label, String value) {
        return "<div class=\"card\"><b>" + value + "</b>" + label + "</div>";
    }

    /** Columns of requests a day, the OK part below and the rest above it, with the highest day's count marked. */
    private static String dailyChart(List<Point> days) {
        long max = 1;
        for (Point p : days) {
            max = Math.max(max, p.requests());
        }
        int plot = CHART_HEIGHT - 20;
        double slot = (double) CHART_WIDTH / Math.max(1, days.size());
        double width = Math.max(1, slot * 0.7);
        StringBuilder svg = new StringBuilder("<svg role=\"img\" aria-label=\"Requests a day, OK and not OK\" width=\""
                + CHART_WIDTH + "\" height=\"" + CHART_HEIGHT + "\" viewBox=\"0 0 " + CHART_WIDTH + " " + CHART_HEIGHT
                + "\">");
        for (int i = 0; i < days.size(); i++) {
            Point p = days.get(i);
            double x = i * slot + (slot - width) / 2;
            double okHeight = plot * (double) (p.requests() - Report.notOk(p)) / max;
            double badHeight = plot * (double) Report.notOk(p) / max;
            svg.append(rect("ok", x, plot - okHeight, width, okHeight));
            svg.append(rect("bad", x, plot - okHeight - badHeight, width, badHeight));
            if (days.size() <= 31) {
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                        x + width / 2, CHART_HEIGHT - 4, TextReport.day(p.t()).substring(5)));
            }
        }
        svg.append("<text x=\"2\" y=\"10\">").append(count(max)).append(" requests</text></svg>\n");
        return svg.toString();
    }

    private static void top(Writer out, String title, String what, Top top, boolean byBytes) throws IOException {
        out.write("<h2>" + title + "</h2>\n");
        if (top.rows().isEmpty()) {
            out.write("<p>None.</p>\n");
            return;
        }
        long max = 1;
        for (Ranked v : top.rows()) {
            max = Math.max(max, metric(v, byBytes));
        }
        out.write("<table><tr><th>#</th><th class=\"k\">" + what + "</th><th></th><th>requests</th>"
                + "<th>from clients</th><th>to clients</th></tr>\n");
        int rank = 0;
        for (Ranked v : top.rows()) {
            double w = BAR_WIDTH * (double) metric(v, byBytes) / max;
            out.write("<tr><td>" + ++rank + "</td><td class=\"k\">" + escape(v.key()) + "</td><td><svg width=\""
                    + BAR_WIDTH + "\" height=\"10\" aria-hidden=\"true\">" + rect("bar", 0, 0, w, 10) + "</svg></td><td>"
                    + count(v.requests()) + "</td><td>" + bytes(v.bytesFromClient()) + "</td><td>"
                    + bytes(v.bytesToClient()) + "</td></tr>\n");
        }
        out.write("</table>\n");
    }

    private static long metric(Ranked v, boolean byBytes) {
        return byBytes ? v.bytesFromClient() + v.bytesToClient() : v.requests();
    }

    private static String rect(String cls, double x, double y, double w, double h) {
        return String.format(Locale.ROOT, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                cls, x, y, w, h);
    }

    /** Text for HTML element content and attribute values: the five special characters, and controls dropped. */
    static String escape(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (!Character.isISOControl(c) || c == '\t') {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
