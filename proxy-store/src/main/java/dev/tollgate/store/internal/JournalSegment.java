package dev.tollgate.store.internal;

import dev.tollgate.store.JournaledRecord;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
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
 */
public final class JournalSegment {

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private static final Logger LOG = LoggerFactory.getLogger(JournalSegment.class);
    private static final String SUFFIX = ".journal";

    private final Path file;
    private final long firstSeq;
    private volatile FileChannel channel;
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

    /** A new, empty segment for records from {@code firstSeq} on. */
    public static JournalSegment create(Path dir, long firstSeq, boolean syncDirectory) throws IOException {
        Path file = dir.resolve(String.format("%020d%s", firstSeq, SUFFIX));
        // Made with its final mode, the daemon's user's alone (docs/security.md).
        FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), OWNER_ONLY);
        if (syncDirectory) {
            // The file's name must survive a power loss as its frames do: fsync(2) of the directory.
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        }
        return new JournalSegment(file, firstSeq, channel);
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
     * Makes a recovered segment the one appended to again: what follows its last valid frame (a torn record, or
     * nothing) is cut off first, so that the next frame follows the last good one.
     */
    public void reopenForAppend() throws IOException {
        FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE);
        try {
            c.truncate(bytes);
        } catch (IOException e) {
            c.close();
            throw e;
        }
        channel = c;
        sealed = false;
    }

    /** Whether a frame of {@code frameBytes} goes into this segment (an empty one takes any frame). */
    public boolean fits(int frameBytes, int segmentBytes) {
        return records == 0 || bytes + frameBytes <= segmentBytes;
    }

    /**
     * Writes {@code frame} (all of it) at the end of the segment, into the page cache; the caller holds the
     * journal's lock. {@link #force} takes it to the disk.
     */
    public void write(ByteBuffer frame, long seq) throws IOException {
        long at = bytes;
        int length = frame.remaining();
        while (frame.hasRemaining()) {
            channel.write(frame, at + (length - frame.remaining()));
        }
        bytes = at + length;
        lastSeq = seq;
        records++;
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
        sealed = true;
        if (force) {
            try {
                force();
            } catch (IOException e) {
                LOG.warn("journal segment {} - cannot force it to the disk: {}", file, e.toString());
            }
        }
        closeChannel();
        return released.get() >= records;
    }

    /** Returns true the first time only: the caller deletes the file. */
    public boolean markDeleted() {
        return deleted.compareAndSet(false, true);
    }

    public void closeChannel() {
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
