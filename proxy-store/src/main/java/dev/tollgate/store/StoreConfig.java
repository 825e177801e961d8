package dev.tollgate.store;

import dev.tollgate.store.internal.DatabaseUrl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where the access log lives and how it is written. Validated when built: an impossible value names the key,
 * the value and the limit.
 *
 * @param url             JDBC URL, H2 ({@code jdbc:h2:}) or PostgreSQL ({@code jdbc:postgresql:}); {@code null}
 *                        means the embedded H2 file in the state directory
 * @param user            database user
 * @param password        database password
 * @param passwordFile    a file holding the database password (its first line), read at start, instead of
 *                        {@code password}: a secret kept out of tollgate.json
 * @param batchSize       rows per JDBC batch
 * @param flushIntervalMs the longest a handed-over record waits before it is written
 * @param queueCapacity   records the writer's queue holds; when it is full, new requests meet the overflow policy
 * @param onOverflow      {@code refuse} (new requests get 503 while the queue is full: nothing un-audited is
 *                        forwarded) or {@code forward} (they pass unlogged, counted)
 * @param retentionDays   rows older than this many days are deleted; 0 keeps them forever
 * @param sqlPort         port of the read-only SQL server on 127.0.0.1 for {@code tollgate sql}; 0 any free
 *                        port, -1 none
 * @param journalSegmentBytes the size of one file of the audit journal ({@code <stateDir>/journal}): a file is
 *                        deleted once all its records are stored, so this is also about the most a restart reads
 *                        back and checks against the database
 * @param fsync           whether each journal append is also forced to the disk (fdatasync) before the client's
 *                        answer completes: survives power loss; the requests that finish together share one
 *                        disk flush (group commit, {@link AccessJournal#awaitDurable})
 * @param journalMaxBytes how much the journal may hold while the database is slow or down: records that find the
 *                        writer's queue full wait in the journal on disk, up to this many bytes of segments; only
 *                        then does {@code onOverflow} apply
 * @param checkpointIntervalSeconds how often the daemon signs a checkpoint of its hash chain's head (when rows were
 *                        written since the last): rows deleted from the end of the log after a checkpoint show
 */
public record StoreConfig(
        String url,
        String user,
        String password,
        String passwordFile,
        Integer batchSize,
        Integer flushIntervalMs,
        Integer queueCapacity,
        String onOverflow,
        Integer retentionDays,
        Integer sqlPort,
        Integer journalSegmentBytes,
        Boolean fsync,
        Long journalMaxBytes,
        Integer checkpointIntervalSeconds) {

    public static final String DEFAULT_USER = "tollgate";
    public static final String DEFAULT_PASSWORD = "";
    public static final int DEFAULT_BATCH_SIZE = 500;
    public static final int MAX_BATCH_SIZE = 10_000;
    public static final int DEFAULT_FLUSH_INTERVAL_MS = 200;
    public static final int MAX_FLUSH_INTERVAL_MS = 60_000;
    public static final int DEFAULT_QUEUE_CAPACITY = 65_536;
    public static final int MAX_QUEUE_CAPACITY = 10_000_000;
    public static final String OVERFLOW_REFUSE = "refuse";
    public static final String OVERFLOW_FORWARD = "forward";
    public static final int DEFAULT_RETENTION_DAYS = 90;
    public static final int MAX_RETENTION_DAYS = 36_500;
    public static final int DEFAULT_SQL_PORT = 9092;
    public static final int NO_SQL_PORT = -1;
    public static final int DEFAULT_JOURNAL_SEGMENT_BYTES = 16 * 1024 * 1024;
    public static final int MIN_JOURNAL_SEGMENT_BYTES = 64 * 1024;
    public static final int MAX_JOURNAL_SEGMENT_BYTES = 1024 * 1024 * 1024;
    public static final boolean DEFAULT_FSYNC = false;
    public static final long DEFAULT_JOURNAL_MAX_BYTES = 1024L * 1024 * 1024;
    public static final long MAX_JOURNAL_MAX_BYTES = 1024L * 1024 * 1024 * 1024;
    public static final int DEFAULT_CHECKPOINT_INTERVAL_SECONDS = 60;
    public static final int MAX_CHECKPOINT_INTERVAL_SECONDS = 86_400;

    public StoreConfig {
        if (url != null && !url.startsWith("jdbc:")) {
            throw new IllegalArgumentException("url: \"" + url + "\" is not a JDBC URL (it must start with jdbc:)");
        }
        if (url != null && DatabaseUrl.vendorOf(url) == null) {
            throw new IllegalArgumentException("url: \"" + DatabaseUrl.masked(url) + "\" is neither H2 (jdbc:h2:)"
                    + " nor PostgreSQL (jdbc:postgresql:), the two databases Tollgate's schema runs on");
        }
        user = user == null ? DEFAULT_USER : user;
        password = password == null ? DEFAULT_PASSWORD : password;
        if (passwordFile != null) {
            checkPasswordFile(passwordFile, password);
        }
        batchSize = inRange("batchSize", batchSize, DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE);
        flushIntervalMs = inRange("flushIntervalMs", flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 1,
                MAX_FLUSH_INTERVAL_MS);
        queueCapacity = inRange("queueCapacity", queueCapacity, DEFAULT_QUEUE_CAPACITY, 1, MAX_QUEUE_CAPACITY);
        onOverflow = onOverflow == null ? OVERFLOW_REFUSE : onOverflow;
        if (!onOverflow.equals(OVERFLOW_REFUSE) && !onOverflow.equals(OVERFLOW_FORWARD)) {
            throw new IllegalArgumentException("onOverflow: \"" + onOverflow + "\" is not one of \"" + OVERFLOW_REFUSE
                    + "\" (refuse new requests with 503 while the access-log queue is full) or \"" + OVERFLOW_FORWARD
                    + "\" (forward them unlogged)");
        }
        retentionDays = inRange("retentionDays", retentionDays, DEFAULT_RETENTION_DAYS, 0, MAX_RETENTION_DAYS);
        sqlPort = inRange("sqlPort", sqlPort, DEFAULT_SQL_PORT, NO_SQL_PORT, 65_535);
        journalSegmentBytes = inRange("journalSegmentBytes", journalSegmentBytes, DEFAULT_JOURNAL_SEGMENT_BYTES,
                MIN_JOURNAL_SEGMENT_BYTES, MAX_JOURNAL_SEGMENT_BYTES);
        fsync = fsync == null ? DEFAULT_FSYNC : fsync;
        journalMaxBytes = journalMaxBytes == null ? DEFAULT_JOURNAL_MAX_BYTES : journalMaxBytes;
        if (journalMaxBytes < 4L * journalSegmentBytes || journalMaxBytes > MAX_JOURNAL_MAX_BYTES) {
            throw new IllegalArgumentException("journalMaxBytes: " + journalMaxBytes + " is out of range: at least 4"
                    + " journal segments (4 x journalSegmentBytes = " + 4L * journalSegmentBytes + ") and at most "
                    + MAX_JOURNAL_MAX_BYTES);
        }
        checkpointIntervalSeconds = inRange("checkpointIntervalSeconds", checkpointIntervalSeconds,
                DEFAULT_CHECKPOINT_INTERVAL_SECONDS, 1, MAX_CHECKPOINT_INTERVAL_SECONDS);
    }

    /** The settings of the keys before journalMaxBytes and the checkpoints', those at their defaults. */
    public StoreConfig(String url, String user, String password, String passwordFile, Integer batchSize,
                       Integer flushIntervalMs, Integer queueCapacity, String onOverflow, Integer retentionDays,
                       Integer sqlPort, Integer journalSegmentBytes, Boolean fsync) {
        this(url, user, password, passwordFile, batchSize, flushIntervalMs, queueCapacity, onOverflow, retentionDays,
                sqlPort, journalSegmentBytes, fsync, null, null);
    }

    /** The settings of the keys before the journal's, the journal's at their defaults. */
    public StoreConfig(String url, String user, String password, String passwordFile, Integer batchSize,
                       Integer flushIntervalMs, Integer queueCapacity, String onOverflow, Integer retentionDays,
                       Integer sqlPort) {
        this(url, user, password, passwordFile, batchSize, flushIntervalMs, queueCapacity, onOverflow, retentionDays,
                sqlPort, null, null);
    }

    /** The same settings with the keys added later left at their defaults. */
    public StoreConfig(String url, String user, String password, Integer batchSize, Integer flushIntervalMs,
                       Integer queueCapacity) {
        this(url, user, password, null, batchSize, flushIntervalMs, queueCapacity, null, null, null);
    }

    /**
     * The password to log in with: the first line of {@code passwordFile} when it is set (read now, so that a
     * rotated secret takes effect at the next start), else {@code password}.
     *
     * @throws IllegalArgumentException naming the key and the path when the file cannot be read
     */
    public String readPassword() {
        if (passwordFile == null) {
            return password;
        }
        try {
            return Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).lines().findFirst().orElse("");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("passwordFile: " + passwordFile + ": no such file");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("passwordFile: " + passwordFile + ": cannot be read (" + e + ")", e);
        }
    }

    /** Whether {@code url} is a PostgreSQL database (a fleet's shared log) rather than H2. */
    public boolean usesPostgresql() {
        return url != null && DatabaseUrl.vendorOf(url) == DatabaseUrl.Vendor.POSTGRESQL;
    }

    /** {@code url} fit for a message or a log line: a password in it masked. */
    public String maskedUrl() {
        return DatabaseUrl.masked(url);
    }

    /** Whether a full queue refuses new requests (rather than forwarding them unlogged). */
    public boolean refusesOnOverflow() {
        return OVERFLOW_REFUSE.equals(onOverflow);
    }

    /** The defaults for every key. */
    public static StoreConfig defaults() {
        return new StoreConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** This config with {@code url} filled in when it was left out. */
    public StoreConfig withDefaultUrl(String defaultUrl) {
        return url != null ? this : withUrl(defaultUrl);
    }

    /** This config with another database: the same user, password and writer settings. */
    public StoreConfig withUrl(String otherUrl) {
        return new StoreConfig(otherUrl, user, password, passwordFile, batchSize, flushIntervalMs, queueCapacity,
                onOverflow, retentionDays, sqlPort, journalSegmentBytes, fsync, journalMaxBytes,
                checkpointIntervalSeconds);
    }

    /**
     * A password file must be readable when the config is read, so that {@code tollgate check} finds a wrong
     * path, and it replaces {@code password}: a config with both is ambiguous.
     */
    private static void checkPasswordFile(String passwordFile, String password) {
        if (passwordFile.isBlank()) {
            throw new IllegalArgumentException("passwordFile: must not be empty (leave it out to use password)");
        }
        if (!password.isEmpty()) {
            throw new IllegalArgumentException("passwordFile: " + passwordFile + " is set and so is password: set"
                    + " one of them, not both");
        }
        Path file = Path.of(passwordFile);
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("passwordFile: " + passwordFile + ": no such file");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException("passwordFile: " + passwordFile + ": not a readable file (it must be"
                    + " readable by the daemon's user)");
        }
    }

    private static int inRange(String key, Integer value, int defaultValue, int min, int max) {
        if (value == null) {
            return defaultValue;
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(key + ": " + value + " is out of range (" + min + " to " + max + ")");
        }
        return value;
    }
}
