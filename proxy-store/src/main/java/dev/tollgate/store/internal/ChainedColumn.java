package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * One column of {@code access_log} as its row hash sees it ({@link RowChain}): its name, how the writer takes its
 * value from a record (as the database will store it: strings {@link AccessLogTable#fit cut to the column}, a
 * timestamp as epoch milliseconds), and how the verifier reads it back from a stored row. The list of them is
 * {@link AccessLogTable#CHAINED_COLUMNS}.
 *
 * @param name   the column's name in SQL, also its tag in the row's canonical bytes
 * @param type   how its value is encoded
 * @param width  the column's width in characters (text only)
 * @param text   the value of a text column in a record
 * @param number the value of a number or timestamp column in a record
 */
public record ChainedColumn(String name, Type type, int width, Function<AccessRecord, String> text,
                            ToLongFunction<AccessRecord> number) {

    /** How a column's value goes into the canonical bytes. */
    public enum Type {
        /** A BIGINT or INT: eight bytes, big-endian. */
        NUMBER,
        /** A TIMESTAMP(3): its epoch milliseconds, eight bytes. */
        TIMESTAMP,
        /** A VARCHAR: a four-byte count and the UTF-8 bytes. */
        TEXT
    }

    static ChainedColumn number(String name, ToLongFunction<AccessRecord> value) {
        return new ChainedColumn(name, Type.NUMBER, 0, null, value);
    }

    static ChainedColumn timestamp(String name, ToLongFunction<AccessRecord> value) {
        return new ChainedColumn(name, Type.TIMESTAMP, 0, null, value);
    }

    static ChainedColumn text(String name, int width, Function<AccessRecord, String> value) {
        return new ChainedColumn(name, Type.TEXT, width, value, null);
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
