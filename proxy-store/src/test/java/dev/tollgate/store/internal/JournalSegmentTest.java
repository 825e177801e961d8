package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.JournaledRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.TmpfsMount;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A segment's memory-mapped window on real files: frames across several windows, the zeros a crash leaves after
 * the last frame, the seal that cuts them, appending again after a crash, and a disk that fills up under a window.
 */
class JournalSegmentTest {

    private static final int SEGMENT_BYTES = 16 * 1024 * 1024;
    /** Frames of about 2 KB: 1,500 of them fill three windows. */
    private static final int FRAMES = 1_500;

    @TempDir
    Path dir;

    private final ByteBuffer frame = ByteBuffer.allocateDirect(JournalCodec.MAX_FRAME_BYTES);
    private final CRC32C crc = new CRC32C();

    @Test
    void framesOverSeveralWindowsAreAllThereAfterACrashFollowedByZeros() throws Exception {
        JournalSegment segment = JournalSegment.create(dir, 1, SEGMENT_BYTES, false);
        for (long seq = 1; seq <= FRAMES; seq++) {
            append(segment, seq);
        }
        assertTrue(segment.bytes() > 2L * JournalSegment.WINDOW_BYTES, "more than two windows: " + segment.bytes());
        Path crashed = crashImage(segment);
        segment.closeChannel();

        List<JournaledRecord> read = new ArrayList<>();
        JournalSegment recovered = JournalSegment.recover(crashed, read);
        assertEquals(FRAMES, read.size());
        for (int i = 0; i < FRAMES; i++) {
            assertEquals(i + 1, read.get(i).seq());
            assertEquals(path(i + 1), read.get(i).record().path());
        }
        assertEquals(segment.bytes(), recovered.bytes());
    }

    @Test
    void aSealedSegmentIsAsLongAsItsFrames() throws Exception {
        JournalSegment segment = JournalSegment.create(dir, 1, SEGMENT_BYTES, false);
        for (long seq = 1; seq <= 10; seq++) {
            append(segment, seq);
        }
        segment.seal(false);
        assertEquals(segment.bytes(), Files.size(segment.file()));
    }

    /**
     * The window is unmapped when the segment is sealed, not whenever the collector gets to its buffer: else a
     * deleted segment's pages would stay in the daemon's memory and its blocks on the disk.
     */
    @Test
    void aSealedSegmentIsNoLongerMapped() throws Exception {
        JournalSegment segment = JournalSegment.create(dir, 1, SEGMENT_BYTES, false);
        append(segment, 1);
        String file = segment.file().toRealPath().toString();
        assertTrue(Files.readString(Path.of("/proc/self/maps")).contains(file), "mapped while appended to");

        segment.seal(false);

        assertFalse(Files.readString(Path.of("/proc/self/maps")).contains(file), "unmapped once sealed");
    }

    @Test
    void aSegmentReopenedAfterACrashGoesOnAfterItsLastFrame() throws Exception {
        JournalSegment first = JournalSegment.create(dir, 1, SEGMENT_BYTES, false);
        for (long seq = 1; seq <= 700; seq++) {
            append(first, seq);
        }
        Path crashed = crashImage(first); // zeros after frame 700
        first.closeChannel();

        List<JournaledRecord> read = new ArrayList<>();
        JournalSegment again = JournalSegment.recover(crashed, read);
        again.reopenForAppend(SEGMENT_BYTES);
        for (long seq = 701; seq <= FRAMES; seq++) {
            append(again, seq);
        }
        again.seal(false);

        read.clear();
        JournalSegment.recover(crashed, read);
        assertEquals(FRAMES, read.size());
        assertEquals(FRAMES, read.get(FRAMES - 1).seq());
        assertEquals(path(FRAMES), read.get(FRAMES - 1).record().path());
    }

    @Test
    void aFullDiskFailsTheAppendThatNeedsANewWindowWithAnExceptionAndTheFramesBeforeItStay() throws Exception {
        try (TmpfsMount tmpfs = TmpfsMount.mount(dir.resolve("small"), "4m")) {
            JournalSegment segment = JournalSegment.create(tmpfs.dir(), 1, SEGMENT_BYTES, false);
            append(segment, 1);
            tmpfs.fill(tmpfs.dir().resolve("filler"));
            // The window taken before the disk filled still has its blocks: the appends that fit in it go in.
            long seq = 2;
            while (true) {
                JournalCodec.encode(seq, record(seq), frame, crc);
                if (segment.bytes() + frame.remaining() > JournalSegment.WINDOW_BYTES) {
                    break;
                }
                segment.write(frame, seq++);
            }
            long last = seq - 1;
            long next = seq;
            IOException full = assertThrows(IOException.class, () -> segment.write(frame, next));
            assertTrue(String.valueOf(full.getMessage()).contains("No space left"), full.toString());
            segment.seal(false);

            List<JournaledRecord> read = new ArrayList<>();
            JournalSegment.recover(segment.file(), read);
            assertEquals(last, read.size(), "every frame appended before the failure, none after it");
            Files.delete(tmpfs.dir().resolve("filler"));
        }
    }

    @Test
    void aFrameTornByACrashBeforeTheZerosIsDroppedAndTheNextAppendTakesItsPlace() throws Exception {
        JournalSegment segment = JournalSegment.create(dir, 1, SEGMENT_BYTES, false);
        for (long seq = 1; seq <= 10; seq++) {
            append(segment, seq);
        }
        long tenEnds = segment.bytes();
        append(segment, 11);
        Path crashed = crashImage(segment);
        segment.closeChannel();
        // Killed in the middle of copying frame 11: its last 100 bytes never made it (zeros, as the window was).
        try (FileChannel file = FileChannel.open(crashed, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(100), segment.bytes() - 100);
        }

        List<JournaledRecord> read = new ArrayList<>();
        JournalSegment again = JournalSegment.recover(crashed, read);
        assertEquals(10, read.size());
        assertEquals(tenEnds, again.bytes());
        again.reopenForAppend(SEGMENT_BYTES);
        append(again, 11);
        again.seal(false);
        read.clear();
        JournalSegment.recover(crashed, read);
        assertEquals(11, read.size());
        assertEquals(path(11), read.get(10).record().path());
    }

    /**
     * The segment's file as a kill -9 would leave it now (what the page cache holds: the frames, then the zeros of
     * the window's rest), copied aside while it is still mapped.
     */
    private Path crashImage(JournalSegment segment) throws IOException {
        Path crashed = Files.createDirectories(dir.resolve("crashed")).resolve(segment.file().getFileName());
        Files.copy(segment.file(), crashed, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(crashed) > segment.bytes(), "zeros after the last frame: " + Files.size(crashed));
        return crashed;
    }

    private void append(JournalSegment segment, long seq) throws IOException {
        JournalCodec.encode(seq, record(seq), frame, crc);
        segment.write(frame, seq);
    }

    private static AccessRecord record(long seq) {
        return AccessRecord.forwarded("node-1", "main").timing(1_700_000_000_000L + seq, 1_700_000_000_010L + seq)
                .client("127.0.0.1", 40_000).protocol("HTTP/1.1").method("GET").destination("example.com", 80)
                .path(path(seq)).status(200).bytes(0, 100).outcome(Outcome.OK, null).build();
    }

    private static String path(long seq) {
        return "/" + seq + "/" + "p".repeat(2_000);
    }
}
