package dev.tollgate.daemon.sink;

import dev.tollgate.store.JournalReader;
import dev.tollgate.store.RecordChain;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;

/**
 * A sink's committed position, in {@code <stateDir>/sinks/<name>.position}: the highest journal number it has
 * delivered, its chain value there, and the number of the node's last admin event delivered, one line
 * {@code "<seq> <chain hex> <admin seq>"}. Written after each delivery to a
 * temporary file that is then renamed over it, so the file is always a whole old or a whole new position; after
 * a crash the sink delivers again from the one found, so a receiver may see a record twice (same number, same
 * chain) but never misses one.
 * <p>
 * A missing file is a new sink: it starts with the records appended from now on, and saves that start at once
 * ({@code Sinks.start}), so a crash before its first delivery does not move it past its backlog. An unreadable one (cut by a
 * power loss before the rename reached the disk, or edited by hand) starts from the oldest record the journal
 * still holds, with a WARN: duplicates rather than a gap.
 */
final class SinkPosition {

    private static final Logger LOG = LoggerFactory.getLogger(SinkPosition.class);
    static final String DIRECTORY = "sinks";
    private static final HexFormat HEX = HexFormat.of();

    private final Path file;
    private final long seq;
    private final byte[] chain;
    private final long adminSeq;

    private SinkPosition(Path file, long seq, byte[] chain, long adminSeq) {
        this.file = file;
        this.seq = seq;
        this.chain = chain;
        this.adminSeq = adminSeq;
    }

    /** The position of sink {@code name} under {@code stateDir}, read from its file. */
    static SinkPosition load(Path stateDir, String name) throws IOException {
        Path dir = stateDir.resolve(DIRECTORY);
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                "rwx------")));
        Path file = dir.resolve(name + ".position");
        String line;
        try {
            line = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return new SinkPosition(file, JournalReader.Start.FROM_NOW, RecordChain.genesis(),
                    JournalReader.Start.FROM_NOW);
        }
        String[] parts = line.split(" ");
        try {
            if (parts.length == 3 && parts[1].length() == 64) {
                long seq = Long.parseLong(parts[0]);
                long adminSeq = Long.parseLong(parts[2]);
                if (seq >= 0 && adminSeq >= 0) {
                    return new SinkPosition(file, seq, HEX.parseHex(parts[1]), adminSeq);
                }
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        LOG.warn("sink {} - its position file {} holds no position (\"{}\"): it delivers again everything the"
                + " journal holds", name, file, line.length() > 80 ? line.substring(0, 80) + "..." : line);
        return new SinkPosition(file, 0, RecordChain.genesis(), 0);
    }

    /** The highest number delivered, or {@link JournalReader.Start#FROM_NOW} for a new sink. */
    long seq() {
        return seq;
    }

    /** The chain value of the record numbered {@link #seq()} (32 zero bytes before the first). */
    byte[] chain() {
        return chain.clone();
    }

    /** The number of the last admin event delivered, or {@link JournalReader.Start#FROM_NOW} for a new sink. */
    long adminSeq() {
        return adminSeq;
    }

    /** Records that {@code seq}, whose chain value is {@code chain}, is delivered. */
    SinkPosition save(long seq, byte[] chain) throws IOException {
        return save(seq, chain, adminSeq);
    }

    /** Records that the admin event numbered {@code adminSeq} is delivered. */
    SinkPosition saveAdmin(long adminSeq) throws IOException {
        return save(seq, chain, adminSeq);
    }

    /** Records the whole position. */
    SinkPosition save(long seq, byte[] chain, long adminSeq) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".new");
        Files.writeString(temporary, seq + " " + HEX.formatHex(chain) + " " + adminSeq + "\n",
                StandardCharsets.US_ASCII);
        try {
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return new SinkPosition(file, seq, chain, adminSeq);
    }

    Path file() {
        return file;
    }
}
