package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The journal's frame: the ClientHello's columns go through it, and a frame written before V10 still reads. */
class JournalCodecTest {

    private static final AccessRecord TUNNEL = new AccessRecord(null, 1_700_000_000_000L, 12, "node-1", "main",
            "127.0.0.1", 40000, null, Kind.TUNNEL, "HTTP/1.1", "CONNECT", "example.com", 443, null, 200, 517, 4096,
            "93.184.216.34", "example.com", Outcome.OK, null, "h2,http/1.1", "TLSv1.3",
            "t13d1516h2_8daaf6152771_e5627efa2ab1");

    @Test
    void aTunnelsClientHelloColumnsSurviveTheJournal() {
        ByteBuffer frame = ByteBuffer.allocate(JournalCodec.MAX_FRAME_BYTES);
        CRC32C crc = new CRC32C();
        JournalCodec.encode(7, TUNNEL, frame, crc);
        assertEquals(frame.remaining(), JournalCodec.validFrameLength(frame, crc));
        JournalCodec.DecodedRecord decoded = JournalCodec.decode(frame);
        assertEquals(7, decoded.seq());
        assertEquals(TUNNEL, decoded.record());
    }

    /**
     * A segment written by the build before V10 holds version 1 frames, which end at the reason: a daemon upgraded
     * after a crash replays them, and must read them, with the new columns null.
     */
    @Test
    void aFrameWrittenBeforeTheClientHelloColumnsIsStillRead() {
        AccessRecord old = new AccessRecord(null, 1_700_000_000_000L, 12, "node-1", "main", "127.0.0.1", 40000,
                "alice", Kind.FORWARD, "HTTP/1.1", "GET", "example.com", 80, "/", 200, 0, 10, "93.184.216.34", null,
                Outcome.OK, null);
        ByteBuffer frame = versionOneFrame(9, old);
        CRC32C crc = new CRC32C();
        assertEquals(frame.remaining(), JournalCodec.validFrameLength(frame, crc));
        JournalCodec.DecodedRecord decoded = JournalCodec.decode(frame);
        assertEquals(9, decoded.seq());
        assertEquals(old, decoded.record());
        assertNull(decoded.record().ja4());
        assertEquals(frame.limit(), frame.position());
    }

    /**
     * The previous build's frame, byte for byte: version 1, and the payload as now without the three strings after
     * the reason (each null here, so each the 4 bytes of a -1 length).
     */
    private static ByteBuffer versionOneFrame(long seq, AccessRecord r) {
        ByteBuffer frame = ByteBuffer.allocate(JournalCodec.MAX_FRAME_BYTES);
        CRC32C crc = new CRC32C();
        JournalCodec.encode(seq, r, frame, crc);
        int end = frame.limit() - 3 * Integer.BYTES;
        for (int i = 0; i < 3; i++) {
            assertEquals(-1, frame.getInt(end + i * Integer.BYTES));
        }
        frame.put(JournalCodec.HEADER_BYTES, (byte) 1);
        ByteBuffer payload = frame.duplicate().position(JournalCodec.HEADER_BYTES).limit(end);
        crc.reset();
        crc.update(payload);
        frame.putInt(0, end - JournalCodec.HEADER_BYTES);
        frame.putInt(4, (int) crc.getValue());
        frame.position(0).limit(end);
        return frame;
    }
}
