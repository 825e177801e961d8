package dev.tollgate.store.internal;

import dev.tollgate.store.JournaledRecord;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.zip.CRC32C;

/**
 * The journal's read-back cursor, for one reader (the writer thread storing what waited in the journal while the
 * database was slow or down): it keeps its place between calls, a segment and the byte after its last frame read,
 * so reading on from where the last call ended costs no rescan.
 */
public final class JournalCursor {

    private static final Logger LOG = LoggerFactory.getLogger(JournalCursor.class);

    private final Path dir;
    private final NavigableMap<Long, JournalSegment> live;
    private JournalSegment readSegment;
    private long readOffset;
    private ByteBuffer readBuffer;
    private final CRC32C readCrc = new CRC32C();

    /** A cursor over {@code live}, the journal's segments by first number (in {@code dir}, for log lines). */
    public JournalCursor(Path dir, NavigableMap<Long, JournalSegment> live) {
        this.dir = dir;
        this.live = live;
    }

    /**
     * Reads up to {@code max} records numbered {@code fromSeq} or above, in order, into {@code into}; returns how
     * many it added (0 at the end of what is written). A frame that fails its checksum ends its segment's
     * read-back, with an ERROR: the rest of that file is skipped.
     */
    public int read(long fromSeq, int max, List<JournaledRecord> into) throws IOException {
        if (readBuffer == null) {
            readBuffer = ByteBuffer.allocateDirect(4 * JournalCodec.MAX_FRAME_BYTES);
        }
        if (readSegment == null || readSegment.firstSeq() > fromSeq || readSegment.lastSeq() < fromSeq - 1
                || !live.containsKey(readSegment.firstSeq())) {
            Map.Entry<Long, JournalSegment> start = live.floorEntry(fromSeq);
            readSegment = start != null ? start.getValue() : firstAfter(fromSeq - 1);
            readOffset = 0;
        }
        int added = 0;
        while (readSegment != null && added < max) {
            long end = readSegment.bytes();
            boolean ended = false;
            if (readOffset < end) {
                readSegment.read(readOffset, end, readBuffer);
                while (readBuffer.hasRemaining() && added < max) {
                    int length = JournalCodec.validFrameLength(readBuffer, readCrc);
                    if (length < 0) {
                        if (readBuffer.remaining() >= JournalCodec.MAX_FRAME_BYTES
                                || readOffset + readBuffer.remaining() >= end) {
                            LOG.error("journal {} - the record at byte {} of {} fails its checksum; the rest of that"
                                    + " file is not read back", dir, readOffset, readSegment.file());
                            readOffset = end;
                            ended = true;
                        }
                        break; // else a frame cut by the buffer's end: read on from it next time round
                    }
                    JournalCodec.DecodedRecord decoded = JournalCodec.decode(readBuffer);
                    readOffset += length;
                    if (decoded.seq() >= fromSeq) {
                        into.add(new JournaledRecord(decoded.seq(), decoded.record()));
                        added++;
                    }
                }
                if (!ended && readOffset < readSegment.bytes()) {
                    continue;
                }
            }
            if (!readSegment.isSealed()) {
                break; // the segment being appended to: nothing more is written yet
            }
            readSegment = firstAfter(readSegment.firstSeq());
            readOffset = 0;
        }
        return added;
    }

    private JournalSegment firstAfter(long seq) {
        Map.Entry<Long, JournalSegment> next = live.higherEntry(seq);
        return next == null ? null : next.getValue();
    }
}
