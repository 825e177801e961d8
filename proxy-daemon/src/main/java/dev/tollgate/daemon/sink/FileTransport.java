package dev.tollgate.daemon.sink;

import dev.tollgate.daemon.config.SinkConfig;
import dev.tollgate.store.internal.Directories;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * The {@code file} sink: each record as one line of JSON ({@link SinkEvent#json()}) appended to a file that log
 * shippers tail (Vector, Fluent Bit, Filebeat). When it reaches {@code maxBytes} it is renamed to {@code path.1}
 * (the older ones to {@code .2} ... up to {@code maxFiles}, the oldest deleted) and a new one begun, as logrotate's
 * default {@code rotate}/{@code create} does, which every one of those shippers follows.
 * <p>
 * A batch is written with {@code write(2)} and is then the kernel's: a kill -9 of the daemon loses none of it (a
 * power loss may, as for any log file not forced). A batch whose write fails (a full disk) is cut off again, so the
 * file never holds half a line before the batch is written once more. New files are {@code 0640}: they hold every
 * column of every record.
 */
final class FileTransport implements SinkTransport {

    private final Path path;
    private final long maxBytes;
    private final int maxFiles;
    // Volatile: the pump may close the transport from the thread that stops it.
    private volatile FileChannel channel;
    private long size;

    FileTransport(SinkConfig config) {
        this.path = Path.of(config.path()).toAbsolutePath().normalize();
        this.maxBytes = config.maxBytes();
        this.maxFiles = config.maxFiles();
    }

    @Override
    public void deliver(List<SinkEvent> events) throws IOException {
        Lines lines = new Lines(events.size() * 512);
        for (SinkEvent e : events) {
            e.writeJson(lines);
            lines.write('\n');
        }
        ByteBuffer bytes = lines.asBuffer();
        open();
        if (size > 0 && size + bytes.remaining() > maxBytes) {
            rotate();
        }
        FileChannel c = open();
        long before = size;
        try {
            while (bytes.hasRemaining()) {
                c.write(bytes);
            }
            size = before + bytes.limit();
        } catch (IOException e) {
            try {
                c.truncate(before);
            } catch (IOException cut) {
                e.addSuppressed(cut);
            }
            close();
            throw new IOException("writing " + path + " failed: " + why(e), e);
        }
    }

    @Override
    public String target() {
        return path.toString();
    }

    @Override
    public void close() {
        FileChannel c = channel;
        channel = null;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // Nothing is buffered here: every write went to the kernel.
            }
        }
    }

    private FileChannel open() throws IOException {
        try {
            return openOrThrow();
        } catch (IOException e) {
            throw new IOException("cannot open " + path + ": " + why(e), e);
        }
    }

    /** The JDK's file exceptions say only the path: this says what went wrong with it. */
    private static String why(IOException e) {
        if (e instanceof FileAlreadyExistsException) {
            return "a file is in the way of its directory " + e.getMessage();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied on " + e.getMessage();
        }
        if (e instanceof NoSuchFileException) {
            return "no such directory " + e.getMessage();
        }
        return e.toString();
    }

    private FileChannel openOrThrow() throws IOException {
        if (channel == null) {
            Path dir = path.getParent();
            if (dir != null) {
                Directories.createIfMissing(dir, Directories.GROUP_READABLE);
            }
            channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rw-r-----")));
            size = channel.size();
        }
        return channel;
    }

    /** {@code path} becomes {@code path.1}, {@code .1} becomes {@code .2}, ...; the one past maxFiles goes. */
    private void rotate() throws IOException {
        close();
        Files.deleteIfExists(rotated(maxFiles));
        for (int i = maxFiles - 1; i >= 1; i--) {
            if (Files.exists(rotated(i))) {
                Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(path, rotated(1), StandardCopyOption.REPLACE_EXISTING);
        size = 0;
    }

    private Path rotated(int n) {
        return path.resolveSibling(path.getFileName() + "." + n);
    }

    /** The batch's lines, handed to the channel without a copy. */
    private static final class Lines extends ByteArrayOutputStream {
        Lines(int size) {
            super(size);
        }

        ByteBuffer asBuffer() {
            return ByteBuffer.wrap(buf, 0, count);
        }
    }
}
