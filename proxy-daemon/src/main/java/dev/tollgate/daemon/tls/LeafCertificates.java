package dev.tollgate.daemon.tls;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The leaf certificates Tollgate presents to intercepted clients, one per server name, minted by the
 * {@link LocalCa} on first need and then reused until {@link #RENEW_BEFORE} their end, so that a second
 * connection to the same host signs nothing. The cache is bounded: past {@code capacity} names the least
 * recently used is forgotten. All leaves share one key pair made at start (as mitmproxy does): signing is
 * the only per-name cost, and the key never leaves memory.
 */
public final class LeafCertificates {

    public static final int DEFAULT_CAPACITY = 1_000;
    /** A cached leaf this close to its end is replaced by a new one. */
    static final Duration RENEW_BEFORE = Duration.ofHours(24);

    private final LocalCa ca;
    private final KeyPair leafKey = LocalCa.newKeyPair();
    private final Clock clock;
    private final Map<String, X509Certificate[]> cache;
    private final LongAdder minted = new LongAdder();

    public LeafCertificates(LocalCa ca, int capacity, Clock clock) {
        this.ca = ca;
        this.clock = clock;
        this.cache = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, X509Certificate[]> eldest) {
                return size() > capacity;
            }
        };
    }

    public LeafCertificates(LocalCa ca) {
        this(ca, DEFAULT_CAPACITY, Clock.systemUTC());
    }

    /**
     * The leaf certificates of the CA in {@code stateDir}, loaded (or the CA made) when first asked for: an
     * installation that never turns interception on has no CA.
     */
    public static Supplier<LeafCertificates> onFirstUse(Path stateDir) {
        return new Supplier<>() {
            private LeafCertificates leaves;

            @Override
            public synchronized LeafCertificates get() {
                if (leaves == null) {
                    leaves = new LeafCertificates(LocalCa.loadOrCreate(stateDir));
                }
                return leaves;
            }
        };
    }

    /** The chain (leaf, then CA) for {@code name}, from the cache or newly signed. */
    public X509Certificate[] chainFor(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        Instant now = clock.instant();
        synchronized (cache) {
            X509Certificate[] cached = cache.get(key);
            if (cached != null && cached[0].getNotAfter().toInstant().minus(RENEW_BEFORE).isAfter(now)) {
                return cached;
            }
        }
        // Signed outside the lock: handshakes for other names do not wait for this one.
        X509Certificate[] chain = {ca.signLeaf(key, leafKey.getPublic(), now), ca.certificate()};
        minted.increment();
        synchronized (cache) {
            cache.put(key, chain);
        }
        return chain;
    }

    public PrivateKey privateKey() {
        return leafKey.getPrivate();
    }

    /** How many leaf certificates were signed since start. */
    public long minted() {
        return minted.sum();
    }
}
