package dev.tollgate.daemon.sql;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tollgate.admin.internal.CsvWriter;
import dev.tollgate.daemon.report.TerminalText;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * How {@code tollgate sql -c} prints a result. Columns are named as the database reports them (H2 upper-cases
 * unquoted names: {@code SELECT host AS "host"} keeps the case). Timestamps are ISO 8601 ({@code 2025-01-31T
 * 09:15:00.123Z}) and binary values hex in every format.
 */
public enum ResultFormat {

    /** Aligned columns under a header line, numbers to the right, NULL spelt out, then the row count. */
    TABLE {
        @Override
        void write(ResultSet rows, Writer out) throws SQLException, IOException {
            ResultSetMetaData meta = rows.getMetaData();
            int columns = meta.getColumnCount();
            String[] header = new String[columns];
            int[] widths = new int[columns];
            boolean[] numeric = new boolean[columns];
            for (int c = 0; c < columns; c++) {
                header[c] = meta.getColumnLabel(c + 1);
                widths[c] = header[c].length();
                numeric[c] = isNumeric(meta.getColumnType(c + 1));
            }
            // Widths need every row: the table is built in memory (csv and json stream).
            List<String[]> body = new ArrayList<>();
            while (rows.next()) {
                String[] row = new String[columns];
                for (int c = 0; c < columns; c++) {
                    String text = text(rows, c + 1);
                    row[c] = text == null ? "NULL" : TerminalText.escapeControls(text);
                    widths[c] = Math.max(widths[c], row[c].length());
                }
                body.add(row);
            }
            line(out, header, widths, new boolean[columns]);
            StringBuilder rule = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                rule.append(c == 0 ? "" : "-+-").append("-".repeat(widths[c]));
            }
            out.write(rule + "\n");
            for (String[] row : body) {
                line(out, row, widths, numeric);
            }
            out.write("(" + body.size() + (body.size() == 1 ? " row)" : " rows)") + "\n");
        }

        private void line(Writer out, String[] cells, int[] widths, boolean[] rightAligned) throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < cells.length; c++) {
                String pad = " ".repeat(widths[c] - cells[c].length());
                line.append(c == 0 ? "" : " | ").append(rightAligned[c] ? pad + cells[c] : cells[c] + pad);
            }
            out.write(line.toString().stripTrailing() + "\n");
        }
    },

    /** RFC 4180: a header record, CRLF line breaks, a field quoted when it holds a comma, quote, CR or LF. */
    CSV {
        @Override
        void write(ResultSet rows, Writer out) throws SQLException, IOException {
            ResultSetMetaData meta = rows.getMetaData();
            int columns = meta.getColumnCount();
            List<String> header = new ArrayList<>();
            for (int c = 1; c <= columns; c++) {
                header.add(meta.getColumnLabel(c));
            }
            CsvWriter csv = new CsvWriter(out);
            csv.row(header);
            List<String> fields = new ArrayList<>();
            while (rows.next()) {
                fields.clear();
                for (int c = 1; c <= columns; c++) {
                    fields.add(text(rows, c));
                }
                csv.row(fields);
            }
        }
    },

    /** An array with one object per row; numbers, booleans and NULL as JSON's own, everything else a string. */
    JSON {
        private static final JsonFactory FACTORY = new JsonFactory();

        @Override
        void write(ResultSet rows, Writer out) throws SQLException, IOException {
            ResultSetMetaData meta = rows.getMetaData();
            int columns = meta.getColumnCount();
            try (JsonGenerator json = FACTORY.createGenerator(out)) {
                json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                json.useDefaultPrettyPrinter();
                json.writeStartArray();
                while (rows.next()) {
                    json.writeStartObject();
                    for (int c = 1; c <= columns; c++) {
                        json.writeFieldName(meta.getColumnLabel(c));
                        value(json, rows, c, meta.getColumnType(c));
                    }
                    json.writeEndObject();
                }
                json.writeEndArray();
            }
            out.write("\n");
        }

        private void value(JsonGenerator json, ResultSet rows, int column, int type) throws SQLException,
                IOException {
            switch (type) {
                case Types.BOOLEAN, Types.BIT -> {
                    boolean value = rows.getBoolean(column);
                    if (rows.wasNull()) {
                        json.writeNull();
                    } else {
                        json.writeBoolean(value);
                    }
                }
                case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> {
                    long value = rows.getLong(column);
                    if (rows.wasNull()) {
                        json.writeNull();
                    } else {
                        json.writeNumber(value);
                    }
                }
                case Types.DECIMAL, Types.NUMERIC, Types.REAL, Types.FLOAT, Types.DOUBLE -> {
                    BigDecimal value = finiteOrNull(rows, column);
                    if (value == null) {
                        String text = text(rows, column); // NULL, or NaN and the infinities as strings
                        if (text == null) {
                            json.writeNull();
                        } else {
                            json.writeString(text);
                        }
                    } else {
                        json.writeNumber(value);
                    }
                }
                default -> {
                    String text = text(rows, column);
                    if (text == null) {
                        json.writeNull();
                    } else {
                        json.writeString(text);
                    }
                }
            }
        }

        private BigDecimal finiteOrNull(ResultSet rows, int column) throws SQLException {
            try {
                return rows.getBigDecimal(column);
            } catch (SQLException notFinite) {
                return null;
            }
        }
    };

    /**
     * ISO 8601 with at least milliseconds ({@code 09:15:00.540}, not {@code .54}), so that timestamps line up
     * and sort as text; finer precision is kept.
     */
    private static final DateTimeFormatter LOCAL_DATE_TIME = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .appendLiteral('T')
            .appendPattern("HH:mm:ss")
            .appendFraction(ChronoField.NANO_OF_SECOND, 3, 9, true)
            .toFormatter();
    private static final DateTimeFormatter OFFSET_DATE_TIME = new DateTimeFormatterBuilder()
            .append(LOCAL_DATE_TIME)
            .appendOffsetId()
            .toFormatter();

    /** Writes every row of {@code rows} to {@code out} in this format. */
    abstract void write(ResultSet rows, Writer out) throws SQLException, IOException;

    /** A value as text, or null for SQL NULL. */
    static String text(ResultSet rows, int column) throws SQLException {
        int type = rows.getMetaData().getColumnType(column);
        return switch (type) {
            case Types.TIMESTAMP_WITH_TIMEZONE -> {
                OffsetDateTime value = rows.getObject(column, OffsetDateTime.class);
                yield value == null ? null : OFFSET_DATE_TIME.format(value);
            }
            case Types.TIMESTAMP -> {
                LocalDateTime value = rows.getObject(column, LocalDateTime.class);
                yield value == null ? null : LOCAL_DATE_TIME.format(value);
            }
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> {
                byte[] value = rows.getBytes(column);
                yield value == null ? null : HexFormat.of().formatHex(value);
            }
            default -> rows.getString(column);
        };
    }

    private static boolean isNumeric(int type) {
        return switch (type) {
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.DECIMAL, Types.NUMERIC,
                    Types.REAL, Types.FLOAT, Types.DOUBLE -> true;
            default -> false;
        };
    }
}
