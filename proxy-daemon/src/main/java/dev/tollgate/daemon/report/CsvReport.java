package dev.tollgate.daemon.report;

import dev.tollgate.admin.internal.CsvWriter;
import dev.tollgate.store.AccessSummary.Point;
import dev.tollgate.store.AccessSummary.Ranked;
import dev.tollgate.store.AccessSummary.Top;

import java.io.IOException;
import java.io.Writer;

/**
 * {@link ReportFormat#CSV}: one table, so that a spreadsheet or a script reads it in one go. Column
 * {@code section} says which part a row is: {@code period} (key: the period's first day, rank: its number of days),
 * {@code total}, {@code day} (key: the date), and the top lists ({@code hosts_by_requests}, {@code hosts_by_bytes},
 * {@code users_by_requests}, {@code users_by_bytes}, {@code clients_by_requests}, {@code refusals}; rank from 1).
 * Numbers are exact (bytes, not KiB); {@code not_ok} and {@code auth_failures} are empty where they do not apply.
 */
final class CsvReport {

    private CsvReport() {
    }

    static void write(Report r, Writer out) throws IOException {
        CsvWriter csv = new CsvWriter(out);
        csv.row("section", "rank", "key", "requests", "not_ok", "auth_failures", "bytes_from_client",
                "bytes_to_client");
        csv.row("period", r.days().points().size(), TextReport.day(r.since()), null, null, null, null, null);
        point(csv, "total", "", r.totals());
        for (Point p : r.days().points()) {
            point(csv, "day", TextReport.day(p.t()), p);
        }
        top(csv, "hosts_by_requests", r.hostsByRequests());
        top(csv, "hosts_by_bytes", r.hostsByBytes());
        top(csv, "users_by_requests", r.usersByRequests());
        top(csv, "users_by_bytes", r.usersByBytes());
        top(csv, "clients_by_requests", r.clientsByRequests());
        top(csv, "refusals", r.refusals());
    }

    private static void point(CsvWriter csv, String section, String key, Point p) throws IOException {
        csv.row(section, null, key, p.requests(), Report.notOk(p), Report.authFailures(p), p.bytesFromClient(),
                p.bytesToClient());
    }

    private static void top(CsvWriter csv, String section, Top top) throws IOException {
        int rank = 0;
        for (Ranked v : top.rows()) {
            csv.row(section, ++rank, v.key(), v.requests(), null, null, v.bytesFromClient(), v.bytesToClient());
        }
    }
}
