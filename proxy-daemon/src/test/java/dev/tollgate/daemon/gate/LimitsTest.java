package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.config.KeyLimits;
import dev.tollgate.daemon.config.LimitsConfig;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The limits' state on a clock the test drives: buckets, Retry-After, tunnel counts, reloads, and the memory bound
 * under a flood of new keys (issue #22 item 4). Nothing here touches a socket or waits.
 */
class LimitsTest {

    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(42 * SECOND);
    private final Limits limits = new Limits(now::get);

    @Test
    void aClientGetsItsBurstThen429WithRetryAfterFromTheRefillThenATokenPerInterval() throws Exception {
        limits.configure(config(new KeyLimits(120, 3, null, null), null, null, null, null));
        InetAddress client = InetAddress.getByName("10.1.2.3");
        for (int i = 0; i < 3; i++) {
            limits.checkRequest(client, null, "example.test");
        }
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> limits.checkRequest(client, null, "example.test"));
        assertEquals(429, refused.status());
        assertEquals(Outcome.RATE_LIMITED, refused.outcome());
        assertEquals("limits.perClient.requestsPerMinute: client 10.1.2.3 is over 120 request(s) a minute"
                + " (burst 3)", refused.reason());
        assertEquals(1, refused.retryAfterSeconds(), "half a second to the next token, rounded up");
        assertThrows(RequestRefusedException.class, () -> limits.checkRequest(client, null, "example.test"));
        now.addAndGet(SECOND / 2);
        limits.checkRequest(client, null, "example.test");
        limits.checkRequest(InetAddress.getByName("10.1.2.4"), null, "example.test");
    }

    @Test
    void retryAfterIsTheWholeSecondsUntilTheNextToken() throws Exception {
        limits.configure(config(null, new KeyLimits(6, null, null, null), new KeyLimits(60, null, null, null),
                null, null));
        InetAddress client = InetAddress.getByName("10.1.2.3");
        limits.checkRequest(client, null, "a.test");
        now.addAndGet(SECOND / 10);
        assertEquals(1, assertThrows(RequestRefusedException.class,
                () -> limits.checkRequest(client, null, "A.TEST.")).retryAfterSeconds(), "same host, spelled otherwise");
        limits.checkRequest(client, "alice", "b.test");
        now.addAndGet(SECOND);
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> limits.checkRequest(client, "alice", "c.test"));
        assertEquals("limits.perUser.requestsPerMinute: user \"alice\" is over 6 request(s) a minute (burst 1)",
                refused.reason());
        assertEquals(9, refused.retryAfterSeconds(), "a token every 10 s, one second of it gone");
    }

    @Test
    void aRefusalByOneKeyTakesNoTokenFromTheOthers() throws Exception {
        limits.configure(config(new KeyLimits(60, 1, null, null), null, new KeyLimits(60, 1, null, null), null,
                null));
        InetAddress client = InetAddress.getByName("10.1.2.3");
        limits.checkRequest(InetAddress.getByName("10.9.9.9"), null, "busy.test");
        assertThrows(RequestRefusedException.class, () -> limits.checkRequest(client, null, "busy.test"));
        limits.checkRequest(client, null, "other.test");
    }

    @Test
    void aReloadKeepsTheBucketsOfAnUnchangedLimitAndStartsAChangedOneFull() throws Exception {
        InetAddress client = InetAddress.getByName("10.1.2.3");
        limits.configure(config(new KeyLimits(60, 1, null, null), null, null, null, null));
        limits.checkRequest(client, null, "a.test");
        limits.configure(config(new KeyLimits(60, 1, null, null), null, null, 60_000L, null));
        assertThrows(RequestRefusedException.class, () -> limits.checkRequest(client, null, "a.test"),
                "unchanged limit: the empty bucket stays empty across the reload");
        limits.configure(config(new KeyLimits(120, 1, null, null), null, null, 60_000L, null));
        limits.checkRequest(client, null, "a.test");
    }

    @Test
    void tunnelCountsRefuseOverTheCapAndAreReleasedOnceWhateverEndsTheTunnel() throws Exception {
        limits.configure(config(new KeyLimits(null, null, 2, null), null, new KeyLimits(null, null, 3, null),
                null, null));
        InetAddress client = InetAddress.getByName("10.1.2.3");
        Limits.Lease first = limits.openTunnel(client, null, "a.test", false, AdmissionGate.WouldDeny.NONE);
        Limits.Lease second = limits.openTunnel(client, null, "a.test", false, AdmissionGate.WouldDeny.NONE);
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> limits.openTunnel(client, null, "a.test", false, AdmissionGate.WouldDeny.NONE));
        assertEquals("limits.perClient.maxTunnels: client 10.1.2.3 has 2 tunnel(s) open already, its limit",
                refused.reason());
        assertEquals(2, limits.tunnelsOfClient(client), "the refused one took nothing");
        first.release();
        first.release();
        assertEquals(1, limits.tunnelsOfClient(client), "released once, however often it is called");
        second.release();
        assertEquals(0, limits.tunnelsOfClient(client));
    }

    @Test
    void reportModeKeepsTheTunnelCountedAndSaysWhatWouldHaveBeenRefused() throws Exception {
        limits.configure(config(new KeyLimits(null, null, 1, null), null, null, null, null));
        InetAddress client = InetAddress.getByName("10.1.2.3");
        List<String> said = new ArrayList<>();
        limits.openTunnel(client, null, "a.test", true, said::add);
        limits.openTunnel(client, null, "a.test", true, said::add);
        assertEquals(List.of("limits.perClient.maxTunnels: client 10.1.2.3 has 1 tunnel(s) open already, its"
                + " limit"), said);
        assertEquals(2, limits.tunnelsOfClient(client));
    }

    @Test
    void aUsersTunnelsShareItsBandwidthAsDebtToWaitFor() {
        limits.configure(config(null, new KeyLimits(null, null, null, 100_000L), null, null, null));
        assertEquals(0, limits.bandwidthWaitNanos("alice", 100_000, true), "a second's worth at once");
        assertEquals(SECOND / 2, limits.bandwidthWaitNanos("alice", 50_000, true), 1_000);
        assertEquals(SECOND, limits.bandwidthWaitNanos("alice", 50_000, true), 1_000, "queued behind the first");
        assertEquals(0, limits.bandwidthWaitNanos(null, 1_000_000, true), "no user, no bandwidth limit");
        assertEquals(0, limits.bandwidthWaitNanos("bob", 100_000, true));
    }

    @Test
    void manyDistinctHostsAndClientsNeverGrowTheBucketsPastTheCap() throws Exception {
        int cap = 100;
        limits.configure(config(new KeyLimits(60, 1, null, null), null, new KeyLimits(60, 1, null, null), null, cap));
        int refused = 0;
        for (int i = 0; i < 100_000; i++) {
            InetAddress client = InetAddress.getByAddress(new byte[]{10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
            try {
                limits.checkRequest(client, null, "h" + i + ".attack.test");
            } catch (RequestRefusedException e) {
                refused++;
            }
            assertTrue(limits.trackedKeys() <= 2 * cap, "tracked " + limits.trackedKeys());
            if (i % 1000 == 999) {
                now.addAndGet(SECOND / 100);
            }
        }
        // Past the cap, new clients and hosts share one bucket each: together they get one key's rate.
        assertTrue(refused > 99_000, refused + " refused");
        // Idle buckets are swept once they have refilled: the keys tracked before the flood make room again.
        now.addAndGet(2 * SECOND);
        InetAddress newcomer = InetAddress.getByName("192.0.2.1");
        limits.checkRequest(newcomer, null, "fresh.test");
        assertThrows(RequestRefusedException.class, () -> limits.checkRequest(newcomer, null, "fresh2.test"),
                "the newcomer has a bucket of its own again, now empty");
    }

    private static LimitsConfig config(KeyLimits perClient, KeyLimits perUser, KeyLimits perHost, Long lifetimeMs,
                                       Integer maxTrackedKeys) {
        return new LimitsConfig(perClient, perUser, perHost, lifetimeMs, maxTrackedKeys);
    }
}
