package dev.tollgate.store.internal;

import dev.tollgate.store.JournaledRecord;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

/**
 * One file of the journal, named by the sequence number of its first record. Written by the journal's append
 * (under its lock) until sealed; released record by record by the writer, and deleted once sealed and fully
 * released. The counts that appends write and the writer reads are volatile or atomic: the writer's
 * "all released" and the appender's "sealed" are checked by each side after its own write, so one of them sees
 * both.
 * <p>
 * Frames are copied into a shared memory map of the file, a window of {@link #WINDOW_BYTES} that moves on as the
 * segment fills: a copy into the page cache, which the kernel keeps whatever becomes of the process, as a
 * {@code write(2)} would, without the system call per record (a {@code pwrite} was half of the journal's cost
 * on the request path). Each window is written with zeros through the channel before it is mapped, so that the
 * disk's blocks exist before any frame is copied: a full disk fails that write with an {@link IOException}, where
 * a copy into a page with no block behind it would fault. Only one window is mapped at a time, and it is unmapped
 * at once when the map moves on or the segment is sealed (not left to the collector): the daemon's memory holds one
 * window of journal, and a deleted segment's blocks are freed. The zeros after the last frame are cut off when the
 * segment is sealed; after a crash they are read as the unwritten rest of the file ({@link #recover}).
 */
public final class JournalSegment {

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private static final Logger LOG = LoggerFactory.getLogger(JournalSegment.class);
    private static final String SUFFIX = ".journal";
    /** The mapped window's size, and so the journal's share of the daemon's memory (at least one frame). */
    static final int WINDOW_BYTES = Math.max(1024 * 1024, JournalCodec.MAX_FRAME_BYTES);
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    private final Path file;
    private final long firstSeq;
    private volatile FileChannel channel;
    // The mapped window and where it starts in the file; used under the journal's append lock only.
    private MappedByteBuffer window;
    private long windowStart;
    // The size the segment is filled to: no window reaches past it (but for a first frame larger than that).
    private long segmentBytes;
    private volatile long bytes;
    private volatile long lastSeq;
    private volatile int records;
    private volatile boolean sealed;
    private final AtomicInteger released = new AtomicInteger();
    private final AtomicBoolean deleted = new AtomicBoolean();

    private JournalSegment(Path file, long firstSeq, FileChannel channel) {
        this.file = file;
        this.firstSeq = firstSeq;
        this.channel = channel;
        this.lastSeq = firstSeq - 1;
    }

    /** Whether {@code file} is named as a segment is. */
    public static boolean isSegmentFile(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(SUFFIX) && name.length() == 20 + SUFFIX.length()
                && name.chars().limit(20).allMatch(Character::isDigit);
    }

    /** A new, empty segment for records from {@code firstSeq} on, to be filled up to {@code segmentBytes}. */
    public static JournalSegment create(Path dir, long firstSeq, int segmentBytes, boolean syncDirectory)
            throws IOException {
        Path file = dir.resolve(String.format("%020d%s", firstSeq, SUFFIX));
        // Made with its final mode, the daemon's user's alone (docs/security.md).
        FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING), OWNER_ONLY);
        if (syncDirectory) {
            // The file's name must survive a power loss as its frames do: fsync(2) of the directory.
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        }
        JournalSegment segment = new JournalSegment(file, firstSeq, channel);
        segment.segmentBytes = segmentBytes;
        return segment;
    }

    /**
     * Reads a segment left by an earlier run, adding its valid records to {@code into}, and returns it sealed. The
     * first frame that is torn or corrupt ends it: that frame and anything after it are dropped with a WARN
     * (zero bytes after the last frame are the unwritten rest of the file, not damage).
     */
    public static JournalSegment recover(Path file, List<JournaledRecord> into) throws IOException {
        String name = file.getFileName().toString();
        long firstSeq = Long.parseLong(name.substring(0, 20));
        ByteBuffer content;
        // Mapped, not read onto the heap: a segment may be as large as journalSegmentBytes allows.
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            content = c.map(FileChannel.MapMode.READ_ONLY, 0, c.size());
        }
        JournalSegment segment = new JournalSegment(file, firstSeq, null);
        CRC32C crc = new CRC32C();
        while (content.hasRemaining()) {
            int length = JournalCodec.validFrameLength(content, crc);
            if (length < 0) {
                if (!JournalCodec.isBlank(content)) {
                    LOG.warn("journal segment {}: the record at byte {} is torn or corrupt (its length or checksum"
                            + " does not match); it and the {} bytes after it are dropped", file, content.position(),
                            content.remaining());
                }
                break;
            }
            int at = content.position();
            JournalCodec.DecodedRecord decoded = JournalCodec.decode(content);
            into.add(new JournaledRecord(decoded.seq(), decoded.record()));
            segment.records++;
            segment.lastSeq = decoded.seq();
            segment.bytes = at + length;
        }
        segment.sealed = true;
        return segment;
    }

    /**
     * Makes a recovered segment the one appended to again, up to {@code segmentBytes}: what follows its last valid
     * frame (a torn record, the zeros of an unwritten rest, or nothing) is cut off first, so that the next frame
     * follows the last good one.
     */
    public void reopenForAppend(int segmentBytes) throws IOException {
        FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            c.truncate(bytes);
        } catch (IOException e) {
            c.close();
            throw e;
        }
        channel = c;
        this.segmentBytes = segmentBytes;
        sealed = false;
    }

    /** Whether a frame of {@code frameBytes} goes into this segment (an empty one takes any frame). */
    public boolean fits(int frameBytes) {
        return records == 0 || bytes + frameBytes <= segmentBytes;
    }

    /**
     * Copies {@code frame} (all of it) to the end of the segment, into the page cache; the caller holds the
     * journal's lock. {@link #force} takes it to the disk.
     *
     * @throws IOException when the file cannot be grown for it (a full disk) or the map fails; nothing of the
     *                     frame is then written
     */
    public void write(ByteBuffer frame, long seq) throws IOException {
        long at = bytes;
        int length = frame.remaining();
        if (window == null || at + length > windowStart + window.capacity()) {
            mapWindow(at, length);
        }
        try {
            window.put((int) (at - windowStart), frame, frame.position(), length);
        } catch (InternalError e) {
            // The JVM's report of a fault in a mapped page (the file shrank under it, or a page has no block): the
            // frame may be torn. The JVM may also report such a fault later, in other code; the zeros written
            // before mapping are what keeps it from happening on a full disk (JournalSegmentTest).
            throw new IOException("copying a record into the journal's memory map of " + file + " failed", e);
        }
        frame.position(frame.limit());
        bytes = at + length;
        lastSeq = seq;
        records++;
    }

    /**
     * Moves the map to a window from {@code at} on that holds at least {@code length} bytes: the file is grown
     * with zeros to its end first (see the class comment), then the old window is unmapped and the new one mapped.
     */
    private void mapWindow(long at, int length) throws IOException {
        FileChannel c = channel;
        if (c == null) {
            throw new ClosedChannelException();
        }
        long end = Math.max(at + length, Math.min(at + WINDOW_BYTES, segmentBytes));
        for (long size = Math.max(c.size(), at); size < end; ) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), end - size));
            size += c.write(zeros, size);
        }
        unmapWindow();
        window = c.map(FileChannel.MapMode.READ_WRITE, at, end - at);
        windowStart = at;
    }

    private void unmapWindow() {
        MappedByteBuffer w = window;
        window = null;
        if (w != null) {
            Unmapper.unmap(w);
        }
    }

    /**
     * Counts {@code seq} released if it is one of this segment's records; returns true when the segment is
     * sealed and every record is released: it may be deleted.
     */
    public boolean release(long seq) {
        if (seq > lastSeq || seq < firstSeq) {
            return false;
        }
        return released.incrementAndGet() >= records && sealed;
    }

    /** Whether appends to it have ended and every record in it is released (stored, or given up). */
    public boolean isReleased() {
        return sealed && released.get() >= records;
    }

    /**
     * Forces what is written to the disk (fdatasync). May run beside an append: frames written meanwhile may or may
     * not be forced with the rest. Throws {@link ClosedChannelException} once the segment is
     * sealed or its journal closed.
     */
    public void force() throws IOException {
        FileChannel c = channel;
        if (c == null) {
            throw new ClosedChannelException();
        }
        c.force(false);
    }

    /**
     * No more appends; with {@code force}, what is written is forced to the disk first (a failure is logged: the
     * frames stay in the page cache). Returns true when every record is already released: it may be deleted.
     */
    public boolean seal(boolean force) {
        if (force) {
            try {
                force();
            } catch (IOException e) {
                LOG.warn("journal segment {} - cannot force it to the disk: {}", file, e.toString());
            }
        }
        closeChannel();
        // Set only now, unmapped and cut: once it is, the writer may delete the file (its last record released).
        sealed = true;
        return released.get() >= records;
    }

    /** Cuts the zeros after the last frame off the file: a sealed segment is as long as its frames. */
    private void cutZeros() {
        FileChannel c = channel;
        if (c != null) {
            try {
                c.truncate(bytes);
            } catch (IOException e) {
                // Harmless: a later read stops at the zeros, as after a crash.
                LOG.debug("journal segment {} - cannot cut the zeros after its last record", file, e);
            }
        }
    }

    /** Returns true the first time only: the caller deletes the file. */
    public boolean markDeleted() {
        return deleted.compareAndSet(false, true);
    }

    /**
     * Unmaps the window and cuts the zeros after the last frame (when the journal closes, under its append lock; a
     * sealed segment has neither) and closes the file.
     */
    public void closeChannel() {
        unmapWindow();
        cutZeros();
        FileChannel c = channel;
        channel = null;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing journal segment {} failed", file, e);
            }
        }
    }

    /** Whether appends to it have ended (it may still hold unreleased records). */
    public boolean isSealed() {
        return sealed;
    }

    /**
     * Reads the frames between byte {@code from} and {@code to} of this segment's file into {@code buffer}
     * (cleared first, filled as far as it holds), flipped for reading.
     */
    public void read(long from, long to, ByteBuffer buffer) throws IOException {
        buffer.clear();
        buffer.limit((int) Math.min(buffer.capacity(), to - from));
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buffer.hasRemaining()) {
                if (c.read(buffer, from + buffer.position()) < 0) {
                    break;
                }
            }
        }
        buffer.flip();
    }

    public Path file() {
        return file;
    }

    public long firstSeq() {
        return firstSeq;
    }

    public long lastSeq() {
        return lastSeq;
    }

    public int records() {
        return records;
    }

    public long bytes() {
        return bytes;
    }
}
