package dev.tollgate.store.internal;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * One column of a chained table as its row hash sees it ({@link RowChain}): its name, how the writer takes its
 * value from what it stores ({@code T}: an access record, an admin event), as the database will store it (strings
 * {@link AccessLogTable#fit cut to the column}, a timestamp as epoch milliseconds), and how the verifier reads it
 * back from a stored row. The lists of them are {@link AccessLogTable#CHAINED_COLUMNS} and the admin-event log's.
 *
 * @param name   the column's name in SQL, also its tag in the row's canonical bytes
 * @param type   how its value is encoded
 * @param width  the column's width in characters (text only)
 * @param text   the value of a text column in a record
 * @param number the value of a number or timestamp column in a record
 */
public record ChainedColumn<T>(String name, Type type, int width, Function<T, String> text,
                               ToLongFunction<T> number) {

    /** How a column's value goes into the canonical bytes. */
    public enum Type {
        /** A BIGINT or INT: eight bytes, big-endian. */
        NUMBER,
        /** A TIMESTAMP(3): its epoch milliseconds, eight bytes. */
        TIMESTAMP,
        /** A VARCHAR: a four-byte count and the UTF-8 bytes. */
        TEXT
    }

    /** A BIGINT or INT column; a record's value is never NULL. */
    public static <T> ChainedColumn<T> number(String name, ToLongFunction<T> value) {
        return new ChainedColumn<>(name, Type.NUMBER, 0, null, value);
    }

    /** A TIMESTAMP(3) column, the record's value in epoch milliseconds; never NULL. */
    public static <T> ChainedColumn<T> timestamp(String name, ToLongFunction<T> value) {
        return new ChainedColumn<>(name, Type.TIMESTAMP, 0, null, value);
    }

    /** A VARCHAR({@code width}) column; a record's value may be null. */
    public static <T> ChainedColumn<T> text(String name, int width, Function<T, String> value) {
        return new ChainedColumn<>(name, Type.TEXT, width, value, null);
    }

    /** The tag that precedes a present value: the name's length and ASCII bytes. */
    byte[] tag() {
        byte[] ascii = name.getBytes(StandardCharsets.US_ASCII);
        byte[] tag = new byte[ascii.length + 1];
        tag[0] = (byte) ascii.length;
        System.arraycopy(ascii, 0, tag, 1, ascii.length);
        return tag;
    }
}
