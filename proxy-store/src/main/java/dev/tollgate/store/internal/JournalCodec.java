package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The journal's record frame: {@code int length, int crc32c, payload}, big-endian, where the checksum covers the
 * payload. The payload is a version byte, the sequence number, the record's numbers, then its strings, each an
 * {@code int} byte count (-1 for null) and UTF-8 bytes, cut to the width of its column (what the database would
 * keep of it anyway; a lone surrogate becomes U+FFFD). Enums are written by name, so that a journal written by
 * one version is read by the next.
 * <p>
 * Encoding writes straight into the caller's (direct, reused) buffer, character by character: no String.getBytes,
 * no array per record. A frame whose length is 0 or runs past the end, or whose checksum does not match, is where
 * the journal ends: a record cut short by a crash in the middle of its append is dropped whole.
 */
public final class JournalCodec {

    public static final int HEADER_BYTES = 8;
    /** Above any record: every string is cut to its column, at most 3 UTF-8 bytes per character. */
    public static final int MAX_FRAME_BYTES = 64 * 1024;
    /**
     * 2 since V10: the ClientHello's alpn, tls_version and ja4 follow the reason. A version 1 record (written
     * before the upgrade, replayed after it) ends at the reason and is read with the three as null.
     */
    private static final byte VERSION = 2;
    private static final byte VERSION_BEFORE_CLIENT_HELLO = 1;
    private static final int NULL = -1;
    private static final char REPLACEMENT = '\uFFFD';

    private JournalCodec() {
    }

    /**
     * Writes the frame of {@code r} under {@code seq} into {@code frame} from position 0 and flips it: on return
     * it holds exactly the frame. {@code crc} is reset and used; both belong to the caller's thread (or lock).
     */
    public static void encode(long seq, AccessRecord r, ByteBuffer frame, CRC32C crc) {
        frame.clear();
        frame.position(HEADER_BYTES);
        frame.put(VERSION);
        frame.putLong(seq);
        frame.putLong(r.tsMs());
        frame.putLong(r.durationMs());
        frame.putInt(r.clientPort());
        frame.putInt(r.port());
        frame.putInt(r.status());
        frame.putLong(r.bytesFromClient());
        frame.putLong(r.bytesToClient());
        putString(frame, r.node(), AccessLogTable.NODE_WIDTH);
        putString(frame, r.listener(), AccessLogTable.LISTENER_WIDTH);
        putString(frame, r.clientAddr(), AccessLogTable.CLIENT_ADDR_WIDTH);
        putString(frame, r.username(), AccessLogTable.USERNAME_WIDTH);
        putString(frame, r.kind().name(), AccessLogTable.KIND_WIDTH);
        putString(frame, r.protocol(), AccessLogTable.PROTOCOL_WIDTH);
        putString(frame, r.method(), AccessLogTable.METHOD_WIDTH);
        putString(frame, r.host(), AccessLogTable.HOST_WIDTH);
        putString(frame, r.path(), AccessLogTable.PATH_WIDTH);
        putString(frame, r.upstreamAddr(), AccessLogTable.UPSTREAM_ADDR_WIDTH);
        putString(frame, r.sni(), AccessLogTable.SNI_WIDTH);
        putString(frame, r.outcome().name(), AccessLogTable.OUTCOME_WIDTH);
        putString(frame, r.reason(), AccessLogTable.REASON_WIDTH);
        putString(frame, r.alpn(), AccessLogTable.ALPN_WIDTH);
        putString(frame, r.tlsVersion(), AccessLogTable.TLS_VERSION_WIDTH);
        putString(frame, r.ja4(), AccessLogTable.JA4_WIDTH);
        int end = frame.position();
        frame.flip();
        frame.position(HEADER_BYTES);
        crc.reset();
        crc.update(frame);
        frame.putInt(0, end - HEADER_BYTES);
        frame.putInt(4, (int) crc.getValue());
        frame.position(0);
        frame.limit(end);
    }

    /**
     * The length of the valid frame at {@code buffer}'s position, header included, or -1 when there is none there
     * (the end of what was written, or a torn or corrupt record). Does not move the position.
     */
    public static int validFrameLength(ByteBuffer buffer, CRC32C crc) {
        int at = buffer.position();
        if (buffer.remaining() < HEADER_BYTES) {
            return -1;
        }
        int length = buffer.getInt(at);
        if (length <= 0 || length > MAX_FRAME_BYTES - HEADER_BYTES || length > buffer.remaining() - HEADER_BYTES) {
            return -1;
        }
        ByteBuffer payload = buffer.duplicate();
        payload.position(at + HEADER_BYTES);
        payload.limit(at + HEADER_BYTES + length);
        crc.reset();
        crc.update(payload);
        return (int) crc.getValue() == buffer.getInt(at + 4) ? HEADER_BYTES + length : -1;
    }

    /** Whether the bytes from {@code buffer}'s position on are all zero: nothing was ever written there. */
    public static boolean isBlank(ByteBuffer buffer) {
        for (int i = buffer.position(); i < buffer.limit(); i++) {
            if (buffer.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The sequence number of the valid frame at {@code buffer}'s position (see {@link #validFrameLength}). */
    public static long seqOf(ByteBuffer buffer) {
        return buffer.getLong(buffer.position() + HEADER_BYTES + 1);
    }

    /** Decodes the valid frame at {@code buffer}'s position and moves past it. */
    public static DecodedRecord decode(ByteBuffer buffer) {
        int start = buffer.position();
        int length = buffer.getInt(start);
        buffer.position(start + HEADER_BYTES);
        byte version = buffer.get();
        if (version != VERSION && version != VERSION_BEFORE_CLIENT_HELLO) {
            throw new IllegalStateException("journal record version " + version + " is not "
                    + VERSION_BEFORE_CLIENT_HELLO + " or " + VERSION);
        }
        long seq = buffer.getLong();
        long tsMs = buffer.getLong();
        long durationMs = buffer.getLong();
        int clientPort = buffer.getInt();
        int port = buffer.getInt();
        int status = buffer.getInt();
        long bytesFromClient = buffer.getLong();
        long bytesToClient = buffer.getLong();
        String node = getString(buffer);
        String listener = getString(buffer);
        String clientAddr = getString(buffer);
        String username = getString(buffer);
        Kind kind = Kind.valueOf(getString(buffer));
        String protocol = getString(buffer);
        String method = getString(buffer);
        String host = getString(buffer);
        String path = getString(buffer);
        String upstreamAddr = getString(buffer);
        String sni = getString(buffer);
        Outcome outcome = Outcome.valueOf(getString(buffer));
        String reason = getString(buffer);
        String alpn = null;
        String tlsVersion = null;
        String ja4 = null;
        if (version >= VERSION) {
            alpn = getString(buffer);
            tlsVersion = getString(buffer);
            ja4 = getString(buffer);
        }
        buffer.position(start + HEADER_BYTES + length);
        return new DecodedRecord(seq, new AccessRecord(null, tsMs, durationMs, node, listener, clientAddr, clientPort,
                username, kind, protocol, method, host, port, path, status, bytesFromClient, bytesToClient,
                upstreamAddr, sni, outcome, reason, alpn, tlsVersion, ja4));
    }

    /** A record read back with its sequence number. */
    public record DecodedRecord(long seq, AccessRecord record) {
    }

    private static void putString(ByteBuffer b, String s, int width) {
        if (s == null) {
            b.putInt(NULL);
            return;
        }
        int n = Math.min(s.length(), width);
        if (n < s.length() && n > 0 && Character.isHighSurrogate(s.charAt(n - 1))) {
            n--;
        }
        int lengthAt = b.position();
        b.putInt(0);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                b.put((byte) c);
            } else if (c < 0x800) {
                b.put((byte) (0xC0 | (c >> 6)));
                b.put((byte) (0x80 | (c & 0x3F)));
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    b.put((byte) (0xF0 | (cp >> 18)));
                    b.put((byte) (0x80 | ((cp >> 12) & 0x3F)));
                    b.put((byte) (0x80 | ((cp >> 6) & 0x3F)));
                    b.put((byte) (0x80 | (cp & 0x3F)));
                } else {
                    putThreeBytes(b, REPLACEMENT);
                }
            } else {
                putThreeBytes(b, c);
            }
        }
        b.putInt(lengthAt, b.position() - lengthAt - 4);
    }

    private static void putThreeBytes(ByteBuffer b, char c) {
        b.put((byte) (0xE0 | (c >> 12)));
        b.put((byte) (0x80 | ((c >> 6) & 0x3F)));
        b.put((byte) (0x80 | (c & 0x3F)));
    }

    private static String getString(ByteBuffer b) {
        int length = b.getInt();
        if (length == NULL) {
            return null;
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
