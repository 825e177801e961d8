package dev.tollgate.daemon.report;

import java.io.IOException;
import java.io.Writer;
import java.util.Locale;

/** The forms a {@link Report} is written in: text for a terminal or a mail, CSV for a spreadsheet, HTML to forward. */
public enum ReportFormat {

    /** Aligned tables, sizes in KiB/MiB/GiB. */
    TEXT {
        @Override
        public void write(Report report, Writer out) throws IOException {
            TextReport.write(report, out);
        }
    },
    /** One RFC 4180 table of every figure, exact numbers, a section column saying which part each row is. */
    CSV {
        @Override
        public void write(Report report, Writer out) throws IOException {
            CsvReport.write(report, out);
        }
    },
    /** One self-contained page: inline CSS and SVG charts, no script, nothing fetched from anywhere. */
    HTML {
        @Override
        public void write(Report report, Writer out) throws IOException {
            HtmlReport.write(report, out);
        }
    };

    /** Writes {@code report} to {@code out}; does not close it. */
    public abstract void write(Report report, Writer out) throws IOException;

    /** {@code text}, {@code csv} or {@code html}, any case; null for anything else. */
    public static ReportFormat named(String name) {
        for (ReportFormat f : values()) {
            if (f.name().equalsIgnoreCase(name)) {
                return f;
            }
        }
        return null;
    }

    /** A count with thousands separators: 12,345. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A size for people: bytes up to 1 KiB, then KiB, MiB, GiB or TiB with one decimal. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int unit = -1;
        while (v >= 1024 && unit < units.length - 1) {
            v /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[unit]);
    }
}
