package dev.tollgate.admin.internal;

import java.io.IOException;
import java.io.Writer;

/**
 * RFC 4180 CSV: CRLF line ends; a field holding a comma, a quote, CR or LF is quoted, with quotes doubled;
 * null is an empty field. The access-log export's and {@code tollgate report}'s.
 */
public final class CsvWriter {

    private final Writer out;

    public CsvWriter(Writer out) {
        this.out = out;
    }

    public void row(Object... fields) throws IOException {
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                out.write(',');
            }
            field(fields[i]);
        }
        out.write("\r\n");
    }

    public void row(Iterable<String> fields) throws IOException {
        boolean first = true;
        for (String field : fields) {
            if (!first) {
                out.write(',');
            }
            first = false;
            field(field);
        }
        out.write("\r\n");
    }

    private void field(Object value) throws IOException {
        if (value == null) {
            return;
        }
        String text = value.toString();
        if (text.indexOf(',') < 0 && text.indexOf('"') < 0 && text.indexOf('\r') < 0 && text.indexOf('\n') < 0) {
            out.write(text);
            return;
        }
        out.write('"');
        out.write(text.replace("\"", "\"\""));
        out.write('"');
    }
}
