package dev.tollgate.daemon.gate;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket per key (a client address, a user, a destination host), in bounded memory: at most
 * {@code maxKeys} buckets. A bucket that has refilled to the brim is the same as none and may be dropped; when
 * the map is full, such idle buckets are swept out (at most once a {@link #SWEEP_INTERVAL_NANOS}), and a key
 * that still finds no room shares one overflow bucket with every other such key. So a client that rotates its
 * source addresses or the host names it asks for cannot grow memory: past the cap its new keys together get the
 * rate of one key, while the keys already tracked keep theirs.
 */
final class KeyedBuckets {

    static final long SWEEP_INTERVAL_NANOS = 1_000_000_000L;

    private final double perSecond;
    private final double capacity;
    private final int maxKeys;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    /** Buckets in the map and places reserved for ones about to be put there: never above maxKeys. */
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicLong nextSweepNanos;
    private final TokenBucket overflow;

    KeyedBuckets(double perSecond, double capacity, int maxKeys, LongSupplier clock) {
        this.perSecond = perSecond;
        this.capacity = capacity;
        this.maxKeys = maxKeys;
        long now = clock.getAsLong();
        this.nextSweepNanos = new AtomicLong(now);
        this.overflow = new TokenBucket(perSecond, capacity, now);
    }

    /** The bucket of {@code key}: its own, or, when the map is full of busy buckets, the shared overflow one. */
    TokenBucket bucket(String key, long nowNanos) {
        TokenBucket bucket = buckets.get(key);
        if (bucket != null) {
            return bucket;
        }
        if (!reserve(nowNanos)) {
            return overflow;
        }
        TokenBucket made = new TokenBucket(perSecond, capacity, nowNanos);
        TokenBucket raced = buckets.putIfAbsent(key, made);
        if (raced != null) {
            size.decrementAndGet();
            return raced;
        }
        return made;
    }

    /** Buckets kept now (for tests and the reload's log). */
    int size() {
        return buckets.size();
    }

    private boolean reserve(long nowNanos) {
        for (int attempt = 0; attempt < 2; attempt++) {
            if (size.incrementAndGet() <= maxKeys) {
                return true;
            }
            size.decrementAndGet();
            if (attempt == 0 && !sweep(nowNanos)) {
                return false;
            }
        }
        return false;
    }

    /** Drops the buckets that have refilled (idle ones); once a SWEEP_INTERVAL at most. False when not run. */
    private boolean sweep(long nowNanos) {
        long due = nextSweepNanos.get();
        if (nowNanos - due < 0 || !nextSweepNanos.compareAndSet(due, nowNanos + SWEEP_INTERVAL_NANOS)) {
            return false;
        }
        for (Map.Entry<String, TokenBucket> entry : buckets.entrySet()) {
            if (entry.getValue().isFull(nowNanos) && buckets.remove(entry.getKey(), entry.getValue())) {
                size.decrementAndGet();
            }
        }
        return true;
    }
}
