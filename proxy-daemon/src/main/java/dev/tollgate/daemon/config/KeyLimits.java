package dev.tollgate.daemon.config;

/**
 * The limits kept for each value of one key (a client address, a user, a destination host) on a listener
 * (docs/policy.md, "Rate and concurrency limits"). 0 means no limit.
 *
 * @param requestsPerMinute the token bucket's refill: forwarded requests and CONNECTs per minute (per minute,
 *                          not per second, so that a slow rate such as 6 a minute can be said); over it, 429
 * @param burst             the bucket's size: how many may come at once after a quiet time; 0 means one
 *                          second's worth ({@code requestsPerMinute / 60}, at least 1)
 * @param maxTunnels        tunnels open at once (CONNECTs, intercepted or not); over it, the CONNECT gets 429
 * @param bytesPerSecond    tunnel bytes per second, both directions together (perUser only); over it, the tunnel
 *                          is slowed down, never refused
 */
public record KeyLimits(Integer requestsPerMinute, Integer burst, Integer maxTunnels, Long bytesPerSecond) {

    public static final int MAX_REQUESTS_PER_MINUTE = 60_000_000;
    public static final int MAX_BURST = 10_000_000;
    public static final int MAX_TUNNELS = 1_000_000;
    /** The smallest bandwidth limit: less than one tunnel read (64 KiB) a minute is a tunnel that cannot work. */
    public static final long MIN_BYTES_PER_SECOND = 1_024;
    public static final long MAX_BYTES_PER_SECOND = 1L << 40;

    public KeyLimits {
        requestsPerMinute = Checks.intInRange("requestsPerMinute", requestsPerMinute, 0, 0, MAX_REQUESTS_PER_MINUTE);
        burst = Checks.intInRange("burst", burst, 0, 0, MAX_BURST);
        if (burst > 0 && requestsPerMinute == 0) {
            throw new IllegalArgumentException("burst: " + burst + " means nothing without requestsPerMinute above 0");
        }
        burst = burst > 0 || requestsPerMinute == 0 ? burst : Math.max(1, requestsPerMinute / 60);
        maxTunnels = Checks.intInRange("maxTunnels", maxTunnels, 0, 0, MAX_TUNNELS);
        bytesPerSecond = bytesPerSecond == null ? 0 : bytesPerSecond;
        if (bytesPerSecond != 0 && (bytesPerSecond < MIN_BYTES_PER_SECOND || bytesPerSecond > MAX_BYTES_PER_SECOND)) {
            throw new IllegalArgumentException("bytesPerSecond: " + bytesPerSecond + " is out of range (0 for no"
                    + " limit, or " + MIN_BYTES_PER_SECOND + " to " + MAX_BYTES_PER_SECOND + ")");
        }
    }

    /** No limit at all. */
    public static KeyLimits none() {
        return new KeyLimits(null, null, null, null);
    }

    /** The request-rate part of these limits: a bucket kept under it is kept across a reload that leaves it alone. */
    public boolean sameRateAs(KeyLimits other) {
        return requestsPerMinute.equals(other.requestsPerMinute) && burst.equals(other.burst);
    }
}
