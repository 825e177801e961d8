package dev.tollgate.daemon.upstream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * The Basic credentials Tollgate presents to a parent proxy: a user name from the config and a password read
 * from the first line of {@code upstreamProxy.passwordFile}. The file is looked at again at most once a second
 * and re-read when its modification time, size or inode changed, so a rotated password applies without a
 * restart; a file that cannot be read (or is empty) keeps the password read before and says so in the log. At
 * start it must be readable.
 */
final class ParentCredentials {

    private static final Logger LOG = LoggerFactory.getLogger(ParentCredentials.class);
    static final long RECHECK_MS = 1_000;

    private final String username;
    private final Path file;
    private volatile String header;
    private volatile Object stamp;
    private volatile long checkedAtNanos = System.nanoTime();

    ParentCredentials(String username, Path file) {
        this.username = username;
        this.file = file;
        try {
            load();
        } catch (IOException | IllegalStateException e) {
            throw new IllegalArgumentException("upstreamProxy.passwordFile: " + file + " " + e.getMessage(), e);
        }
    }

    /** The {@code Proxy-Authorization} value, from the password file as it is now (checked once a second). */
    String header() {
        long now = System.nanoTime();
        if (now - checkedAtNanos >= RECHECK_MS * 1_000_000) {
            refresh(now);
        }
        return header;
    }

    private synchronized void refresh(long now) {
        if (now - checkedAtNanos < RECHECK_MS * 1_000_000) {
            return;
        }
        checkedAtNanos = now;
        try {
            if (!Objects.equals(stamp(), stamp)) {
                load();
                LOG.info("parent proxy password file {} re-read", file);
            }
        } catch (IOException | IllegalStateException e) {
            LOG.warn("parent proxy password file {} {}; keeping the password read before", file, e.getMessage());
        }
    }

    private Object stamp() throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return List.of(attributes.lastModifiedTime(), attributes.size(), String.valueOf(attributes.fileKey()));
    }

    private synchronized void load() throws IOException {
        Object before;
        List<String> lines;
        try {
            before = stamp();
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot be read (" + e.getMessage() + ")", e);
        }
        if (lines.isEmpty() || lines.get(0).isEmpty()) {
            throw new IllegalStateException("is empty (its first line is the password)");
        }
        header = "Basic " + Base64.getEncoder().encodeToString((username + ":" + lines.get(0))
                .getBytes(StandardCharsets.UTF_8));
        stamp = before;
    }
}
