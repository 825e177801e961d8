package dev.tollgate.daemon.gate;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An htpasswd file ({@code user:hash} per line, {@code #} comments) with bcrypt hashes ({@code $2y$} as
 * {@code htpasswd -B} writes them, {@code $2a$}, {@code $2b$}), checked with Bouncy Castle's OpenBSDBCrypt. The
 * file is looked at again at most once per {@link #RECHECK_MS} and re-read when its modification time, size or
 * inode changed: edit it in place or replace it, no restart needed. A file that cannot be read keeps the users
 * last read (and says so in the log); at start it must be readable.
 */
final class UsersFile {

    private static final Logger LOG = LoggerFactory.getLogger(UsersFile.class);
    static final long RECHECK_MS = 1_000;

    enum Check { OK, UNKNOWN_USER, WRONG_PASSWORD }

    private final Path file;
    private volatile Map<String, String> hashes;
    private volatile Object stamp;
    private volatile long version;
    private volatile long checkedAtNanos;
    // A bcrypt check of an unknown user still costs as much as a real one, so that timing does not tell
    // which user names exist.
    private static final String DUMMY_HASH = OpenBSDBCrypt.generate("2y", "x".toCharArray(), new byte[16], 5);

    UsersFile(Path file) {
        this.file = file;
        try {
            load();
        } catch (IOException e) {
            throw new IllegalArgumentException("auth.usersFile: " + file + " cannot be read (" + e.getMessage()
                    + ")", e);
        }
    }

    /** Re-reads the file if it changed (looked at once a second at most); returns its version. */
    long refresh() {
        long now = System.nanoTime();
        if (now - checkedAtNanos < RECHECK_MS * 1_000_000) {
            return version;
        }
        synchronized (this) {
            if (now - checkedAtNanos < RECHECK_MS * 1_000_000) {
                return version;
            }
            checkedAtNanos = now;
            try {
                if (!Objects.equals(stamp(), stamp)) {
                    load();
                    LOG.info("users file {} re-read: {} user(s)", file, hashes.size());
                }
            } catch (IOException e) {
                LOG.warn("users file {} cannot be read, keeping the {} user(s) read before: {}", file,
                        hashes.size(), e.toString());
            }
            return version;
        }
    }

    /** Re-reads the file now if it changed, without waiting for the once-a-second look (a reload). */
    void refreshNow() {
        synchronized (this) {
            checkedAtNanos = System.nanoTime() - RECHECK_MS * 1_000_000;
        }
        refresh();
    }

    boolean has(String username) {
        return hashes.containsKey(username);
    }

    Check check(String username, String password) {
        String hash = hashes.get(username);
        if (hash == null) {
            OpenBSDBCrypt.checkPassword(DUMMY_HASH, password.toCharArray());
            return Check.UNKNOWN_USER;
        }
        try {
            return OpenBSDBCrypt.checkPassword(hash, password.toCharArray()) ? Check.OK : Check.WRONG_PASSWORD;
        } catch (RuntimeException e) {
            LOG.debug("bcrypt hash of user {} cannot be checked", username, e);
            return Check.WRONG_PASSWORD;
        }
    }

    private Object stamp() throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return java.util.List.of(attributes.lastModifiedTime(), attributes.size(),
                String.valueOf(attributes.fileKey()));
    }

    private synchronized void load() throws IOException {
        Object before = stamp();
        Map<String, String> read = new HashMap<>();
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            int colon = trimmed.indexOf(':');
            String hash = colon < 0 ? "" : trimmed.substring(colon + 1);
            if (colon <= 0 || !hash.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
                LOG.warn("users file {} line {}: not a user:bcrypt-hash entry (create entries with htpasswd -B);"
                        + " ignored", file, lineNumber);
                continue;
            }
            read.put(trimmed.substring(0, colon), hash);
        }
        hashes = Map.copyOf(read);
        stamp = before;
        version++;
    }
}
