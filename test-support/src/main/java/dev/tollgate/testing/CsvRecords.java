package dev.tollgate.testing;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

/**
 * A strict RFC 4180 reader, record by record, for checking what the API writes rather than for forgiving it:
 * every record must end with CRLF, a CR or LF may appear only inside a quoted field, a quote inside a quoted
 * field must be doubled, and a quoted field must end where its field does. Any departure fails the test.
 */
public final class CsvRecords {

    private final Reader in;
    private long record;
    private int pushedBack = -2;

    public CsvRecords(Reader in) {
        this.in = in;
    }

    /** Every record of {@code text}. */
    public static List<List<String>> parse(String text) throws IOException {
        CsvRecords csv = new CsvRecords(new java.io.StringReader(text));
        List<List<String>> records = new ArrayList<>();
        List<String> next;
        while ((next = csv.next()) != null) {
            records.add(next);
        }
        return records;
    }

    /** The next record's fields, or null at the end of the input (which must come right after a CRLF). */
    public List<String> next() throws IOException {
        int c = read();
        if (c < 0) {
            return null;
        }
        record++;
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean fieldStart = true;
        while (true) {
            if (quoted) {
                if (c < 0) {
                    throw fail("the input ends inside a quoted field");
                }
                if (c == '"') {
                    int after = read();
                    if (after == '"') {
                        field.append('"');
                    } else {
                        quoted = false;
                        if (after != ',' && after != '\r') {
                            throw fail("a quoted field is followed by '" + (char) after + "' instead of a comma or"
                                    + " CRLF (an undoubled quote?)");
                        }
                        unread(after);
                    }
                } else {
                    field.append((char) c);
                }
            } else if (c == '"' && fieldStart) {
                quoted = true;
            } else if (c == '"') {
                throw fail("a quote inside an unquoted field");
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
                fieldStart = true;
                c = read();
                continue;
            } else if (c == '\r') {
                if (read() != '\n') {
                    throw fail("a CR outside quotes not followed by LF");
                }
                fields.add(field.toString());
                return fields;
            } else if (c == '\n') {
                throw fail("a bare LF ends a line (RFC 4180 wants CRLF)");
            } else if (c < 0) {
                throw fail("the last record does not end with CRLF");
            } else {
                field.append((char) c);
            }
            fieldStart = false;
            c = read();
        }
    }

    private int read() throws IOException {
        if (pushedBack != -2) {
            int c = pushedBack;
            pushedBack = -2;
            return c;
        }
        return in.read();
    }

    private void unread(int c) {
        pushedBack = c;
    }

    private AssertionError fail(String what) {
        return new AssertionError("CSV record " + record + ": " + what);
    }
}
