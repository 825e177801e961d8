package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.config.KeyLimits;
import dev.tollgate.daemon.config.LimitsConfig;
import dev.tollgate.daemon.policy.HostAndPort;
import dev.tollgate.daemon.policy.RequestRefusedException;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * A listener's limits (docs/policy.md, "Rate and concurrency limits"), and their state: request-rate buckets and
 * bandwidth buckets per client address, user and destination host, and the open tunnels counted by each. One
 * object per listener name, kept across reloads and restarts of the listener ({@link #configure}): a bucket
 * whose limit did not change keeps its tokens, and the tunnel counts always go on (tunnels of the old connector
 * still draining are still open). Only {@link AdmissionGate} calls it.
 */
public final class Limits {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final LongSupplier clock;
    private final TunnelCounts clientTunnels = new TunnelCounts();
    private final TunnelCounts userTunnels = new TunnelCounts();
    private final TunnelCounts hostTunnels = new TunnelCounts();
    private volatile Rules rules;

    /** The limits as configured now, with their buckets (null where that limit is off). */
    private record Rules(LimitsConfig config, KeyedBuckets clients, KeyedBuckets users, KeyedBuckets hosts,
                         KeyedBuckets userBytes) {

        boolean checkRequests() {
            return clients != null || users != null || hosts != null;
        }
    }

    public Limits() {
        this(System::nanoTime);
    }

    Limits(LongSupplier clock) {
        this.clock = clock;
        configure(LimitsConfig.none());
    }

    /** Limits that never refuse (tests, and listeners built without any). */
    static Limits none() {
        return new Limits();
    }

    /**
     * Called when the listener (re)starts with {@code next}: a rate whose key's limit, and the cap on tracked keys,
     * are the same keeps its buckets; a changed one starts from full buckets.
     */
    public synchronized void configure(LimitsConfig next) {
        Rules old = rules;
        boolean sameCap = old != null && old.config.maxTrackedKeys().equals(next.maxTrackedKeys());
        rules = new Rules(next,
                requestBuckets(sameCap ? old.clients : null, sameCap ? old.config.perClient() : null,
                        next.perClient(), next.maxTrackedKeys()),
                requestBuckets(sameCap ? old.users : null, sameCap ? old.config.perUser() : null, next.perUser(),
                        next.maxTrackedKeys()),
                requestBuckets(sameCap ? old.hosts : null, sameCap ? old.config.perHost() : null, next.perHost(),
                        next.maxTrackedKeys()),
                sameCap && old.userBytes != null
                        && old.config.perUser().bytesPerSecond().equals(next.perUser().bytesPerSecond())
                        ? old.userBytes : byteBuckets(next));
    }

    private KeyedBuckets requestBuckets(KeyedBuckets kept, KeyLimits before, KeyLimits now, int maxKeys) {
        if (now.requestsPerMinute() == 0) {
            return null;
        }
        if (kept != null && before.sameRateAs(now)) {
            return kept;
        }
        return new KeyedBuckets(now.requestsPerMinute() / 60.0, now.burst(), maxKeys, clock);
    }

    private KeyedBuckets byteBuckets(LimitsConfig config) {
        long rate = config.perUser().bytesPerSecond();
        return rate == 0 ? null : new KeyedBuckets(rate, rate, config.maxTrackedKeys(), clock);
    }

    LimitsConfig config() {
        return rules.config;
    }

    /** Whether any request rate is on: without one, {@link #checkRequest} has nothing to do. */
    boolean checksRequests() {
        return rules.checkRequests();
    }

    /**
     * A forwarded request or a CONNECT: takes a token from the client's, the user's and the host's bucket, or
     * none of them (a token taken is given back when a later bucket is empty).
     *
     * @throws RequestRefusedException 429, RATE_LIMITED, Retry-After from the empty bucket's refill
     */
    void checkRequest(InetAddress client, String user, String host) throws RequestRefusedException {
        Rules now = rules;
        if (!now.checkRequests()) {
            return;
        }
        long at = clock.getAsLong();
        String clientKey = clientKey(client);
        TokenBucket byClient = take(now.clients, clientKey, at, "perClient", now.config.perClient(),
                "client " + clientKey);
        TokenBucket byUser;
        try {
            byUser = user == null ? null : take(now.users, user, at, "perUser", now.config.perUser(),
                    "user \"" + user + "\"");
        } catch (RequestRefusedException refused) {
            giveBack(byClient);
            throw refused;
        }
        try {
            String hostKey = hostKey(host);
            take(now.hosts, hostKey, at, "perHost", now.config.perHost(), "host " + hostKey);
        } catch (RequestRefusedException refused) {
            giveBack(byClient);
            giveBack(byUser);
            throw refused;
        }
    }

    private static TokenBucket take(KeyedBuckets buckets, String key, long at, String which, KeyLimits limits,
                                    String who) throws RequestRefusedException {
        if (buckets == null) {
            return null;
        }
        TokenBucket bucket = buckets.bucket(key, at);
        long waitNanos = bucket.tryTake(at);
        if (waitNanos > 0) {
            throw RequestRefusedException.rateLimited("limits." + which + ".requestsPerMinute: " + who + " is over "
                    + limits.requestsPerMinute() + " request(s) a minute (burst " + limits.burst() + ")",
                    (waitNanos + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND);
        }
        return bucket;
    }

    private static void giveBack(TokenBucket bucket) {
        if (bucket != null) {
            bucket.giveBack();
        }
    }

    /**
     * A tunnel about to open: counts it for its client, user and host. Over a {@code maxTunnels}, the count is
     * taken back and the CONNECT refused, unless {@code reportsOnly}: then it stays counted (it is open) and
     * {@code sink} is told.
     *
     * @return the count, to be released once when the tunnel's record is made, whatever ended it
     */
    Lease openTunnel(InetAddress client, String user, String host, boolean reportsOnly,
                     AdmissionGate.WouldDeny sink) throws RequestRefusedException {
        Lease lease = new Lease(clientKey(client), user, hostKey(host));
        LimitsConfig config = rules.config;
        String over = over(clientTunnels.increment(lease.client), config.perClient(), "perClient",
                "client " + lease.client);
        if (user != null) {
            String overByUser = over(userTunnels.increment(user), config.perUser(), "perUser",
                    "user \"" + user + "\"");
            over = over != null ? over : overByUser;
        }
        String overByHost = over(hostTunnels.increment(lease.host), config.perHost(), "perHost",
                "host " + lease.host);
        over = over != null ? over : overByHost;
        if (over != null) {
            if (!reportsOnly) {
                lease.release();
                // A tunnel slot is freed when some tunnel closes, which no bucket predicts: ask for 1 s.
                throw RequestRefusedException.rateLimited(over, 1);
            }
            sink.wouldDeny(over);
        }
        return lease;
    }

    private static String over(int count, KeyLimits limits, String which, String who) {
        int max = limits.maxTunnels();
        return max > 0 && count > max ? "limits." + which + ".maxTunnels: " + who + " has " + max
                + " tunnel(s) open already, its limit" : null;
    }

    /** Open tunnels counted for a client address (tests). */
    int tunnelsOfClient(InetAddress client) {
        return clientTunnels.count(clientKey(client));
    }

    /**
     * {@code bytes} passing through a tunnel of {@code user}: the nanoseconds to wait before writing them on, so
     * that the user's tunnels together keep to {@code perUser.bytesPerSecond}; 0 without a limit or a user.
     *
     * @param debt false in report mode: nothing waits, and a non-zero answer only says it would have
     */
    long bandwidthWaitNanos(String user, int bytes, boolean debt) {
        KeyedBuckets buckets = rules.userBytes;
        if (buckets == null || user == null || bytes <= 0) {
            return 0;
        }
        long at = clock.getAsLong();
        TokenBucket bucket = buckets.bucket(user, at);
        return debt ? bucket.takeWithDebt(bytes, at) : bucket.takeWithoutDebt(bytes, at);
    }

    long maxTunnelLifetimeMs() {
        return rules.config.maxTunnelLifetimeMs();
    }

    /** Buckets kept now by the per-client and per-host rates, the two an attacker can make new keys for. */
    int trackedKeys() {
        Rules now = rules;
        return (now.clients == null ? 0 : now.clients.size()) + (now.hosts == null ? 0 : now.hosts.size());
    }

    private static String clientKey(InetAddress client) {
        return client == null ? "?" : client.getHostAddress();
    }

    /** A host as asked for, in one spelling ({@link HostAndPort#canonicalHost}). */
    static String hostKey(String host) {
        return HostAndPort.canonicalHost(host);
    }

    /** One open tunnel's place in the counts; {@link #release()} gives it back once, however often it is called. */
    public final class Lease {
        private final String client;
        private final String user;
        private final String host;
        private final AtomicBoolean released = new AtomicBoolean();

        private Lease(String client, String user, String host) {
            this.client = client;
            this.user = user;
            this.host = host;
        }

        public void release() {
            if (released.compareAndSet(false, true)) {
                clientTunnels.decrement(client);
                if (user != null) {
                    userTunnels.decrement(user);
                }
                hostTunnels.decrement(host);
            }
        }
    }
}
