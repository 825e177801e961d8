package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;

/**
 * The hash chain of a node's access-log rows: each row's {@code chain} is SHA-256 of the previous stored row's
 * chain (32 zero bytes before the first) followed by the row's canonical bytes. The canonical bytes are a version
 * byte, then {@code seq}, then each column of {@link AccessLogTable#CHAINED_COLUMNS} that is not NULL, in that
 * order, as its tag (the name) and its value. A NULL column adds nothing, so NULL differs from an empty string or
 * 0, and a column added by a later migration, NULL in the rows stored before it, leaves their hashes as they were.
 * <p>
 * The writer hashes a record as the database will store it, and the verifier hashes the row it reads back; the two
 * give the same bytes because both go through the same list. One instance per thread: it reuses its digest and
 * buffer, so that the writer allocates only the 32-byte result per row.
 */
public final class RowChain<T> {

    /** Bytes of a chain value. */
    public static final int LENGTH = 32;
    static final byte VERSION = 1;

    private static final byte[] SEQ_TAG = ChainedColumn.<Object>number("seq", r -> 0).tag();

    private final MessageDigest sha256;
    private final List<ChainedColumn<T>> columns;
    private final byte[][] tags;
    private byte[] buffer = new byte[4096];
    private int length;

    /** The chain of access_log's rows. */
    public static RowChain<AccessRecord> accessLog() {
        return new RowChain<>(AccessLogTable.CHAINED_COLUMNS);
    }

    /** The chain of a table whose chained columns are {@code columns}. */
    public RowChain(List<ChainedColumn<T>> columns) {
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        this.columns = List.copyOf(columns);
        this.tags = this.columns.stream().map(ChainedColumn::tag).toArray(byte[][]::new);
    }

    /** The chain before a node's first row: 32 zero bytes. */
    public static byte[] genesis() {
        return new byte[LENGTH];
    }

    /** The chain of a row that follows a row whose chain is {@code previous} and stores {@code r} under {@code seq}. */
    public byte[] next(byte[] previous, long seq, T r) {
        encode(seq, r);
        return digest(previous);
    }

    /** The chain of the stored row at the cursor of {@code row} (which has every chained column and seq). */
    public byte[] next(byte[] previous, ResultSet row) throws SQLException {
        encode(row);
        return digest(previous);
    }

    /** The canonical bytes of the stored row at the cursor of {@code row}, copied: the verifier links them twice. */
    public byte[] canonical(ResultSet row) throws SQLException {
        encode(row);
        return Arrays.copyOf(buffer, length);
    }

    /** The chain of a row with these canonical bytes after a row whose chain is {@code previous}. */
    public byte[] link(byte[] previous, byte[] canonical) {
        sha256.update(previous, 0, LENGTH);
        sha256.update(canonical);
        return sha256.digest();
    }

    /** The canonical bytes of {@code r} stored under {@code seq}: for tests. */
    byte[] canonical(long seq, T r) {
        encode(seq, r);
        return Arrays.copyOf(buffer, length);
    }

    private byte[] digest(byte[] previous) {
        sha256.update(previous, 0, LENGTH);
        sha256.update(buffer, 0, length);
        return sha256.digest();
    }

    private void encode(long seq, T r) {
        start(seq);
        for (int i = 0; i < tags.length; i++) {
            ChainedColumn<T> column = columns.get(i);
            if (column.type() == ChainedColumn.Type.TEXT) {
                String value = AccessLogTable.fit(column.text().apply(r), column.width());
                if (value != null) {
                    putText(tags[i], value);
                }
            } else {
                putNumber(tags[i], column.number().applyAsLong(r));
            }
        }
    }

    private void encode(ResultSet row) throws SQLException {
        start(row.getLong("seq"));
        for (int i = 0; i < tags.length; i++) {
            ChainedColumn<T> column = columns.get(i);
            switch (column.type()) {
                case TEXT -> {
                    String value = row.getString(column.name());
                    if (value != null) {
                        putText(tags[i], value);
                    }
                }
                case TIMESTAMP -> {
                    OffsetDateTime value = row.getObject(column.name(), OffsetDateTime.class);
                    if (value != null) {
                        putNumber(tags[i], value.toInstant().toEpochMilli());
                    }
                }
                case NUMBER -> {
                    long value = row.getLong(column.name());
                    if (!row.wasNull()) {
                        putNumber(tags[i], value);
                    }
                }
            }
        }
    }

    private void start(long seq) {
        length = 0;
        ensure(1);
        buffer[length++] = VERSION;
        putNumber(SEQ_TAG, seq);
    }

    private void putNumber(byte[] tag, long value) {
        putTag(tag);
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buffer[length++] = (byte) (value >>> shift);
        }
    }

    /** The tag, a four-byte count of UTF-8 bytes, and the bytes, encoded here rather than by getBytes (no array). */
    private void putText(byte[] tag, String value) {
        putTag(tag);
        ensure(4 + 3 * value.length());
        int countAt = length;
        length += 4;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                buffer[length++] = (byte) c;
            } else if (c < 0x800) {
                buffer[length++] = (byte) (0xC0 | c >> 6);
                buffer[length++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, value.charAt(++i));
                buffer[length++] = (byte) (0xF0 | cp >> 18);
                buffer[length++] = (byte) (0x80 | cp >> 12 & 0x3F);
                buffer[length++] = (byte) (0x80 | cp >> 6 & 0x3F);
                buffer[length++] = (byte) (0x80 | cp & 0x3F);
            } else if (Character.isSurrogate(c)) {
                // A lone surrogate has no UTF-8 form: '?', as String.getBytes(UTF_8) makes it.
                buffer[length++] = '?';
            } else {
                buffer[length++] = (byte) (0xE0 | c >> 12);
                buffer[length++] = (byte) (0x80 | c >> 6 & 0x3F);
                buffer[length++] = (byte) (0x80 | c & 0x3F);
            }
        }
        int count = length - countAt - 4;
        buffer[countAt] = (byte) (count >>> 24);
        buffer[countAt + 1] = (byte) (count >>> 16);
        buffer[countAt + 2] = (byte) (count >>> 8);
        buffer[countAt + 3] = (byte) count;
    }

    private void putTag(byte[] tag) {
        ensure(tag.length);
        System.arraycopy(tag, 0, buffer, length, tag.length);
        length += tag.length;
    }

    private void ensure(int more) {
        if (length + more > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
        }
    }
}
