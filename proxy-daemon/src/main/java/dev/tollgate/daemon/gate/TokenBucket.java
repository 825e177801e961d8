package dev.tollgate.daemon.gate;

/**
 * One token bucket: {@code capacity} tokens, refilled at {@code perSecond}, read against a clock in nanoseconds
 * that the caller passes (so that tests can drive it). Small and synchronized: one is touched per request or per
 * tunnel write, never held across anything slow.
 */
final class TokenBucket {

    private static final double NANOS_PER_SECOND = 1e9;

    private final double perNano;
    private final double capacity;
    private double tokens;
    private long atNanos;

    TokenBucket(double perSecond, double capacity, long nowNanos) {
        this.perNano = perSecond / NANOS_PER_SECOND;
        this.capacity = capacity;
        this.tokens = capacity;
        this.atNanos = nowNanos;
    }

    /** Takes one token; returns 0 when taken, else the nanoseconds until one will be there (nothing taken). */
    synchronized long tryTake(long nowNanos) {
        refill(nowNanos);
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return nanosFor(1 - tokens);
    }

    /** Gives back a token taken by {@link #tryTake} for a request that another limit then refused. */
    synchronized void giveBack() {
        tokens = Math.min(capacity, tokens + 1);
    }

    /**
     * Takes {@code amount} tokens at once, going into debt if there are not enough: returns the nanoseconds until
     * the debt is paid (0 when there was no debt), which is how long the taker waits before going on. Several takers
     * of one bucket queue up in its debt, so together they get its rate.
     */
    synchronized long takeWithDebt(long amount, long nowNanos) {
        refill(nowNanos);
        tokens -= amount;
        return tokens >= 0 ? 0 : nanosFor(-tokens);
    }

    /** Takes what there is, up to {@code amount}; returns how long the rest would have had to wait (report mode). */
    synchronized long takeWithoutDebt(long amount, long nowNanos) {
        refill(nowNanos);
        if (tokens >= amount) {
            tokens -= amount;
            return 0;
        }
        long wait = nanosFor(amount - tokens);
        tokens = 0;
        return wait;
    }

    /** Whether the bucket has refilled to the brim: then it is the same as a new one, and can be forgotten. */
    synchronized boolean isFull(long nowNanos) {
        refill(nowNanos);
        return tokens >= capacity;
    }

    private long nanosFor(double missing) {
        return (long) Math.ceil(missing / perNano);
    }

    private void refill(long nowNanos) {
        long elapsed = nowNanos - atNanos;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * perNano);
            atNanos = nowNanos;
        }
    }
}
