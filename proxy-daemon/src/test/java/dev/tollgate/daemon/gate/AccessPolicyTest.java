package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.gate.AccessPolicy;
import dev.tollgate.daemon.policy.DomainPattern;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.policy.ThisHost;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Destination rules, domain patterns and CONNECT port ranges, without sockets. */
class AccessPolicyTest {

    private static AccessPolicy policy(String rules) {
        ListenerConfig config = ConfigLoader.parse("test", "{\"listeners\": [{" + rules + "}]}").listeners().get(0);
        return new AccessPolicy(config);
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void theThreeDomainPatternsMatchWhatTheySay() {
        DomainPattern exact = DomainPattern.parse("example.com");
        DomainPattern subdomains = DomainPattern.parse("*.example.com");
        DomainPattern both = DomainPattern.parse(".example.com");

        assertTrue(exact.matches("EXAMPLE.com."));
        assertFalse(exact.matches("www.example.com"));
        assertFalse(subdomains.matches("example.com"));
        assertTrue(subdomains.matches("a.b.example.com"));
        assertFalse(subdomains.matches("badexample.com"));
        assertTrue(both.matches("example.com"));
        assertTrue(both.matches("www.example.com"));
        assertFalse(both.matches("example.com.evil.org"));
        assertFalse(both.matches("127.0.0.1"));
    }

    @Test
    void aDeniedNetworkIsNamedWithItsIndex() throws Exception {
        AccessPolicy policy = policy("\"denyDestinations\": [\"10.0.0.0/8\", \"192.168.0.0/16\", \"169.254.0.0/16\"]");

        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> policy.checkDestination("metadata.test", ip("169.254.169.254")));
        assertEquals(403, refused.status());
        assertEquals(Outcome.DENIED, refused.outcome());
        assertTrue(refused.reason().endsWith("denyDestinations[2]: 169.254.0.0/16"), refused.reason());
        assertTrue(refused.reason().contains("metadata.test (169.254.169.254)"), refused.reason());
    }

    @Test
    void denyWinsOverAllow() throws Exception {
        AccessPolicy policy = policy("\"allowDestinations\": [\".example.com\"], \"denyDestinations\":"
                + " [\"admin.example.com\"]");

        policy.checkDestination("www.example.com", ip("192.0.2.1"));
        assertThrows(RequestRefusedException.class, () -> policy.checkDestinationName("admin.example.com"));
        assertThrows(RequestRefusedException.class, () -> policy.checkDestination("admin.example.com",
                ip("192.0.2.1")));
    }

    @Test
    void aNonEmptyAllowListRefusesWhatMatchesNoEntry() throws Exception {
        AccessPolicy policy = policy("\"allowDestinations\": [\"example.com\", \"192.0.2.0/24\"]");

        policy.checkDestination("example.com", ip("198.51.100.1"));
        policy.checkDestination("other.org", ip("192.0.2.7"));
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> policy.checkDestination("other.org", ip("198.51.100.1")));
        assertTrue(refused.reason().contains("matches no entry of allowDestinations"), refused.reason());
        // Through a parent proxy the address is unknown: only the name can be allowed.
        assertThrows(RequestRefusedException.class, () -> policy.checkDestination("other.org", null));
    }

    @Test
    void connectPortRangesIncludeBothEnds() throws Exception {
        AccessPolicy policy = policy("\"connectPorts\": [443, \"8443-8445\"]");

        policy.checkConnectPort(443);
        policy.checkConnectPort(8443);
        policy.checkConnectPort(8445);
        assertThrows(RequestRefusedException.class, () -> policy.checkConnectPort(8446));
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> policy.checkConnectPort(444));
        assertTrue(refused.reason().contains("connectPorts [443, 8443-8445]"), refused.reason());
    }
    @Test
    void thisHostIsRefusedInEverySpellingEvenWithAnEmptyDenyList() throws Exception {
        AccessPolicy policy = policy("\"denyDestinations\": []");

        for (String spelling : new String[] {"127.0.0.1", "127.255.0.9", "0.0.0.0", "0.1.2.3", "::", "::1",
                "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::", "2002:7f00:1::",
                "2002:0:0::"}) {
            RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                    () -> policy.checkDestination(spelling, ip(spelling)), spelling);
            assertEquals(403, refused.status());
            assertEquals(Outcome.DENIED, refused.outcome());
            assertTrue(refused.reason().contains("is this host"), refused.reason());
            assertTrue(refused.reason().endsWith("allowLocalHost is off"), refused.reason());
        }
    }

    @Test
    void thisHostsInterfaceAddressesAreRefused() throws Exception {
        AccessPolicy policy = policy("\"denyDestinations\": []");

        for (InetAddress own : ThisHost.interfaceAddresses()) {
            assertThrows(RequestRefusedException.class, () -> policy.checkDestination(null, own), own.toString());
        }
    }

    @Test
    void allowLocalHostLetsThisHostThroughButTheDenyListStillApplies() throws Exception {
        AccessPolicy open = policy("\"denyDestinations\": [], \"allowLocalHost\": true");
        AccessPolicy listed = policy("\"allowLocalHost\": true");

        open.checkDestination("localhost", ip("127.0.0.1"));
        open.checkDestination(null, ip("::"));
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> listed.checkDestination(null, ip("127.0.0.1")));
        assertTrue(refused.reason().endsWith("denyDestinations[0]: 127.0.0.0/8"), refused.reason());
    }

    @Test
    void otherAddressesAreNotThisHost() throws Exception {
        AccessPolicy policy = policy("\"denyDestinations\": []");

        for (String other : new String[] {"203.0.113.7", "1.0.0.0", "2001:db8::1", "::ffff:203.0.113.7",
                "64:ff9b::cb00:7107", "2002:cb00:7107::"}) {
            policy.checkDestination(null, ip(other));
        }
    }

    @Test
    void aDeniedIpv4NetworkAlsoDeniesTheIpv6AddressesThatEmbedIt() throws Exception {
        AccessPolicy policy = policy("\"denyDestinations\": [\"169.254.0.0/16\"]");

        for (String embedded : new String[] {"64:ff9b::a9fe:a9fe", "::169.254.169.254", "2002:a9fe:a9fe::"}) {
            RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                    () -> policy.checkDestination(null, ip(embedded)), embedded);
            assertTrue(refused.reason().endsWith("denyDestinations[0]: 169.254.0.0/16"), refused.reason());
        }
    }
}
