package dev.tollgate.daemon.config;

/**
 * A listener's rate, concurrency, lifetime and bandwidth limits (docs/policy.md, "Rate and concurrency limits").
 * Everything is off by default; a limit over its bound answers 429 with {@code Retry-After} and a RATE_LIMITED row.
 *
 * @param perClient           per client address
 * @param perUser             per authenticated user (nothing without {@code auth}); the only one with
 *                            {@code bytesPerSecond}
 * @param perHost             per destination host, as the request names it (case-insensitive)
 * @param maxTunnelLifetimeMs how long a tunnel may stay open; past it, it is closed (0: no limit)
 * @param maxTrackedKeys      how many clients, users or hosts each rate limit keeps a bucket for; past it, new
 *                            ones share one bucket (so memory stays bounded whatever a client rotates)
 */
public record LimitsConfig(KeyLimits perClient, KeyLimits perUser, KeyLimits perHost, Long maxTunnelLifetimeMs,
                           Integer maxTrackedKeys) {

    public static final int DEFAULT_MAX_TRACKED_KEYS = 100_000;
    public static final int MIN_TRACKED_KEYS = 10;
    public static final int MAX_TRACKED_KEYS = 10_000_000;

    public LimitsConfig {
        perClient = perClient == null ? KeyLimits.none() : perClient;
        perUser = perUser == null ? KeyLimits.none() : perUser;
        perHost = perHost == null ? KeyLimits.none() : perHost;
        onlyPerUser("perClient", perClient);
        onlyPerUser("perHost", perHost);
        maxTunnelLifetimeMs = Checks.longInRange("maxTunnelLifetimeMs", maxTunnelLifetimeMs, 0, 0,
                ListenerConfig.MAX_TIMEOUT_MS);
        maxTrackedKeys = Checks.intInRange("maxTrackedKeys", maxTrackedKeys, DEFAULT_MAX_TRACKED_KEYS,
                MIN_TRACKED_KEYS, MAX_TRACKED_KEYS);
    }

    /** No limit: the default. */
    public static LimitsConfig none() {
        return new LimitsConfig(null, null, null, null, null);
    }

    private static void onlyPerUser(String key, KeyLimits limits) {
        if (limits.bytesPerSecond() != 0) {
            throw new IllegalArgumentException(key + ".bytesPerSecond: " + limits.bytesPerSecond() + " is not"
                    + " allowed here: the bandwidth limit is per user (perUser.bytesPerSecond)");
        }
    }
}
