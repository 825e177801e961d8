package dev.tollgate.daemon.report;

import dev.tollgate.store.AccessSummary.Point;
import dev.tollgate.store.AccessSummary.Ranked;
import dev.tollgate.store.AccessSummary.Top;

import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static dev.tollgate.daemon.report.ReportFormat.bytes;
import static dev.tollgate.daemon.report.ReportFormat.count;

/** {@link ReportFormat#TEXT}: a heading, the totals, then one aligned table per part. */
final class TextReport {

    /** The longest value a top list shows in full; the CSV and HTML forms show every value whole. */
    static final int MAX_KEY = 80;

    private TextReport() {
    }

    static void write(Report r, Writer out) throws IOException {
        Point t = r.totals();
        out.write("Tollgate access report, " + day(r.since()) + " to " + day(r.until().minus(Duration.ofDays(1)))
                + " (UTC, whole days; made " + r.made() + ")\n\n");
        out.write("Requests      " + count(t.requests()) + " (" + count(Report.notOk(t)) + " not OK, "
                + count(Report.authFailures(t)) + " authentication failures)\n");
        out.write("From clients  " + bytes(t.bytesFromClient()) + "\n");
        out.write("To clients    " + bytes(t.bytesToClient()) + "\n");

        List<String[]> days = new ArrayList<>();
        days.add(new String[] {"day", "requests", "not OK", "auth failures", "from clients", "to clients"});
        for (Point p : r.days().points()) {
            days.add(new String[] {day(p.t()), count(p.requests()), count(Report.notOk(p)),
                    count(Report.authFailures(p)), bytes(p.bytesFromClient()), bytes(p.bytesToClient())});
        }
        table(out, "Daily volume", days);
        top(out, "Top sites by requests", "host", r.hostsByRequests());
        top(out, "Top sites by bytes", "host", r.hostsByBytes());
        top(out, "Top users by requests", "user", r.usersByRequests());
        top(out, "Top users by bytes", "user", r.usersByBytes());
        top(out, "Top clients by requests", "client", r.clientsByRequests());
        top(out, "Refusals and failures by rule", "outcome: reason", r.refusals());
    }

    private static void top(Writer out, String title, String what, Top top) throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"#", what, "requests", "from clients", "to clients"});
        int rank = 0;
        for (Ranked v : top.rows()) {
            String key = v.key() == null ? "" : TerminalText.escapeControls(v.key());
            rows.add(new String[] {String.valueOf(++rank), shortened(key), count(v.requests()),
                    bytes(v.bytesFromClient()), bytes(v.bytesToClient())});
        }
        table(out, title, rows);
    }

    /** The title, then the rows in columns: the first two left-aligned, numbers right-aligned; "none" if empty. */
    private static void table(Writer out, String title, List<String[]> rows) throws IOException {
        out.write("\n" + title + "\n");
        if (rows.size() == 1) {
            out.write("  none\n");
            return;
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        boolean ranked = rows.get(0)[0].equals("#");
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                boolean left = ranked ? i == 1 : i == 0;
                String pad = " ".repeat(widths[i] - row[i].length());
                line.append("  ").append(left ? row[i] + pad : pad + row[i]);
            }
            out.write(line.toString().stripTrailing() + "\n");
        }
    }

    /** {@code value} cut to {@value #MAX_KEY} characters, ending "...", so a long reason keeps a line readable. */
    private static String shortened(String value) {
        return value.length() <= MAX_KEY ? value : value.substring(0, MAX_KEY - 3) + "...";
    }

    static String day(java.time.Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC).toString();
    }
}
