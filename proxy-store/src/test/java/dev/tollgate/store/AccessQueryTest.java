package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessQueryTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void allFiltersNothingAndReadsTheFirstHundredRows() {
        AccessQuery q = AccessQuery.all();

        assertEquals(new AccessQuery(null, null, null, null, null, null, null, null, null, null, null, null, 100, 0),
                q);
    }

    @Test
    void eachWithMethodSetsItsOwnFieldAndLeavesTheOthers() {
        AccessQuery q = AccessQuery.all()
                .withSince(T0).withUntil(T0.plusSeconds(60)).withHost("example.org").withClient("10.0.0.1")
                .withMethod("GET").withStatusCode(404).withListener("public").withUsername("alice")
                .withOutcome(Outcome.DENIED).withKind(Kind.TUNNEL).withLimit(7).withAfter(42);

        assertEquals(new AccessQuery(T0, T0.plusSeconds(60), "example.org", "10.0.0.1", "GET", 404, null,
                "public", "alice", Outcome.DENIED, Kind.TUNNEL, null, 7, 42), q);
    }

    @Test
    void aStatusClassReplacesAStatusCodeAndTheOtherWayRound() {
        AccessQuery byClass = AccessQuery.all().withStatusCode(404).withStatusClass(5);
        AccessQuery byCode = byClass.withStatusCode(503);

        assertNull(byClass.statusCode());
        assertEquals(5, byClass.statusClass());
        assertEquals(503, byCode.statusCode());
        assertNull(byCode.statusClass());
    }

    @Test
    void theLimitsOfLimitAreAccepted() {
        assertEquals(1, AccessQuery.all().withLimit(1).limit());
        assertEquals(10_000, AccessQuery.all().withLimit(10_000).limit());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 10_001, Integer.MAX_VALUE})
    void aLimitOutOfRangeIsRejectedNamingKeyValueAndLimits(int limit) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withLimit(limit));

        assertEquals("limit: " + limit + " is out of range (1 to 10000)", e.getMessage());
    }

    @Test
    void aNegativeCursorIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withAfter(-1));

        assertTrue(e.getMessage().startsWith("after: -1 "), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 99, 600, 1000})
    void aStatusCodeOutsideOneHundredToFiveNinetyNineIsRejected(int code) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withStatusCode(code));

        assertTrue(e.getMessage().startsWith("status: " + code + " is out of range (100 to 599"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 6, -1})
    void aStatusClassOutsideOneToFiveIsRejected(int statusClass) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withStatusClass(statusClass));

        assertEquals("status class: " + statusClass + " is out of range (1 to 5)", e.getMessage());
    }

    @Test
    void bothAStatusCodeAndAClassAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AccessQuery(
                null, null, null, null, null, 404, 4, null, null, null, null, null, 100, 0));

        assertTrue(e.getMessage().startsWith("status: both"), e.getMessage());
    }

    @Test
    void untilNotAfterSinceIsRejected() {
        IllegalArgumentException same = assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withSince(T0).withUntil(T0));
        assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withUntil(T0).withSince(T0.plusMillis(1)));

        assertTrue(same.getMessage().startsWith("until: "), same.getMessage());
    }

    @Test
    void aLeadingStarDotMakesTheHostASuffixPattern() {
        AccessQuery q = AccessQuery.all().withHost("*.example.com");

        assertTrue(q.hostIsSuffixPattern());
        assertEquals("example.com", q.hostSuffixDomain());
        assertFalse(AccessQuery.all().withHost("example.com").hostIsSuffixPattern());
        assertNull(AccessQuery.all().withHost("example.com").hostSuffixDomain());
        assertFalse(AccessQuery.all().hostIsSuffixPattern());
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", "*.", "*example.com", "a.*.example.com", "*.*.example.com", "example.*"})
    void aStarAnywhereButALeadingStarDotIsRejected(String host) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AccessQuery.all().withHost(host));

        assertTrue(e.getMessage().startsWith("host: \"" + host + "\""), e.getMessage());
    }
}
