package dev.tollgate.store;

/**
 * Where the access log lives and how it is written. Validated when built: an impossible value names the key,
 * the value and the limit.
 *
 * @param url             JDBC URL; {@code null} means the embedded H2 file in the state directory
 * @param user            database user
 * @param password        database password
 * @param batchSize       rows per JDBC batch
 * @param flushIntervalMs the longest a handed-over record waits before it is written
 * @param queueCapacity   records the writer's queue holds before {@code append} blocks
 */
public record StoreConfig(
        String url,
        String user,
        String password,
        Integer batchSize,
        Integer flushIntervalMs,
        Integer queueCapacity) {

    public static final String DEFAULT_USER = "tollgate";
    public static final String DEFAULT_PASSWORD = "";
    public static final int DEFAULT_BATCH_SIZE = 500;
    public static final int MAX_BATCH_SIZE = 10_000;
    public static final int DEFAULT_FLUSH_INTERVAL_MS = 200;
    public static final int MAX_FLUSH_INTERVAL_MS = 60_000;
    public static final int DEFAULT_QUEUE_CAPACITY = 65_536;
    public static final int MAX_QUEUE_CAPACITY = 10_000_000;

    public StoreConfig {
        if (url != null && !url.startsWith("jdbc:")) {
            throw new IllegalArgumentException("url: \"" + url + "\" is not a JDBC URL (it must start with jdbc:)");
        }
        user = user == null ? DEFAULT_USER : user;
        password = password == null ? DEFAULT_PASSWORD : password;
        batchSize = inRange("batchSize", batchSize, DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE);
        flushIntervalMs = inRange("flushIntervalMs", flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 1,
                MAX_FLUSH_INTERVAL_MS);
        queueCapacity = inRange("queueCapacity", queueCapacity, DEFAULT_QUEUE_CAPACITY, 1, MAX_QUEUE_CAPACITY);
    }

    /** The defaults for every key. */
    public static StoreConfig defaults() {
        return new StoreConfig(null, null, null, null, null, null);
    }

    /** This config with {@code url} filled in when it was left out. */
    public StoreConfig withDefaultUrl(String defaultUrl) {
        return url != null ? this : new StoreConfig(defaultUrl, user, password, batchSize, flushIntervalMs,
                queueCapacity);
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
