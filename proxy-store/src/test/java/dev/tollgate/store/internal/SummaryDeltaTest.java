package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.internal.SummaryDelta.RankKey;
import dev.tollgate.store.internal.SummaryDelta.SeriesKey;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What one access-log row adds to each roll-up, and what its removal takes away. */
class SummaryDeltaTest {

    private static final long TS = Instant.parse("2026-12-06T12:34:56.789Z").toEpochMilli();
    private static final long MINUTE = Instant.parse("2026-12-06T12:34:00Z").toEpochMilli();
    private static final long HOUR = Instant.parse("2026-12-06T12:00:00Z").toEpochMilli();
    private static final long DAY = Instant.parse("2026-12-06T00:00:00Z").toEpochMilli();

    @Test
    void aStatusCountsInItsHundredsAndAnythingOutside100To599AsNone() {
        assertEquals(0, SummaryDelta.statusClass(0));
        assertEquals(0, SummaryDelta.statusClass(99));
        assertEquals(1, SummaryDelta.statusClass(100));
        assertEquals(2, SummaryDelta.statusClass(204));
        assertEquals(5, SummaryDelta.statusClass(599));
        assertEquals(0, SummaryDelta.statusClass(600));
    }

    @Test
    void aRefusedRowCountsInItsMinuteHourAndEveryDimensionItHas() {
        SummaryDelta delta = new SummaryDelta();

        delta.add(record(Outcome.DENIED, 403, "example.com", "alice", "host not allowed"), true);

        SeriesKey series = new SeriesKey(MINUTE, "FORWARD", "DENIED", 4);
        assertEquals(Set.of(series), delta.minutes().keySet());
        assertArrayEquals(new long[] {1, 10, 20}, delta.minutes().get(series));
        assertEquals(Set.of(new SeriesKey(HOUR, "FORWARD", "DENIED", 4)), delta.hours().keySet());
        assertEquals(Set.of(new RankKey(SummaryDelta.HOST, HOUR, "example.com"),
                new RankKey(SummaryDelta.CLIENT, HOUR, "10.0.0.1"), new RankKey(SummaryDelta.USER, HOUR, "alice"),
                new RankKey(SummaryDelta.REASON, HOUR, "DENIED: host not allowed")), delta.ranks().keySet());
    }

    @Test
    void aRowIsRankedInItsUtcDayWithTheSameValuesAsInItsHour() {
        SummaryDelta delta = new SummaryDelta();

        delta.add(record(Outcome.DENIED, 403, "example.com", "alice", "host not allowed"), true);
        delta.add(record(Outcome.DENIED, 403, "example.com", "alice", "host not allowed", DAY - 1), true);

        assertEquals(Set.of(new RankKey(SummaryDelta.HOST, DAY, "example.com"),
                new RankKey(SummaryDelta.CLIENT, DAY, "10.0.0.1"), new RankKey(SummaryDelta.USER, DAY, "alice"),
                new RankKey(SummaryDelta.REASON, DAY, "DENIED: host not allowed"),
                new RankKey(SummaryDelta.HOST, DAY - 86_400_000, "example.com"),
                new RankKey(SummaryDelta.CLIENT, DAY - 86_400_000, "10.0.0.1"),
                new RankKey(SummaryDelta.USER, DAY - 86_400_000, "alice"),
                new RankKey(SummaryDelta.REASON, DAY - 86_400_000, "DENIED: host not allowed")),
                delta.dayRanks().keySet());
        assertArrayEquals(new long[] {1, 10, 20}, delta.dayRanks().get(new RankKey(SummaryDelta.HOST, DAY,
                "example.com")));
    }

    @Test
    void aRowCountedWithoutRanksHasNoDayRanks() {
        SummaryDelta delta = new SummaryDelta();

        delta.add(record(Outcome.OK, 200, "example.com", null, null), false);

        assertTrue(delta.dayRanks().isEmpty());
    }

    @Test
    void anOkRowWithoutUserOrHostHasNoReasonUserOrHostRank() {
        SummaryDelta delta = new SummaryDelta();

        delta.add(record(Outcome.OK, 200, null, null, null), true);

        assertEquals(Set.of(new RankKey(SummaryDelta.CLIENT, HOUR, "10.0.0.1")), delta.ranks().keySet());
    }

    @Test
    void aRowCountedWithoutRanksIsInTheSeriesAlone() {
        SummaryDelta delta = new SummaryDelta();

        delta.add(record(Outcome.OK, 200, "example.com", null, null), false);

        assertEquals(1, delta.minutes().size());
        assertTrue(delta.ranks().isEmpty());
    }

    @Test
    void aValueIsRankedCutTo255Characters() {
        SummaryDelta delta = new SummaryDelta();

        delta.add(record(Outcome.OK, 200, "h".repeat(300), null, null), true);

        assertTrue(delta.ranks().containsKey(new RankKey(SummaryDelta.HOST, HOUR, "h".repeat(255))));
    }

    @Test
    void aPurgedRowTakesAwayExactlyWhatItAdded() {
        SummaryDelta delta = new SummaryDelta();
        delta.add(record(Outcome.DENIED, 403, "example.com", "alice", "host not allowed"), true);

        delta.subtract(new SummaryDelta.Row(TS, "FORWARD", "DENIED", 403, 10, 20, "example.com", "10.0.0.1",
                "alice", "host not allowed"), true);

        delta.minutes().values().forEach(sums -> assertArrayEquals(new long[3], sums));
        delta.hours().values().forEach(sums -> assertArrayEquals(new long[3], sums));
        delta.ranks().values().forEach(sums -> assertArrayEquals(new long[3], sums));
        delta.dayRanks().values().forEach(sums -> assertArrayEquals(new long[3], sums));
        assertEquals(4, delta.ranks().size());
        assertEquals(4, delta.dayRanks().size());
    }

    private static AccessRecord record(Outcome outcome, int status, String host, String user, String reason) {
        return record(outcome, status, host, user, reason, TS);
    }

    private static AccessRecord record(Outcome outcome, int status, String host, String user, String reason,
                                       long tsMs) {
        return new AccessRecord(null, tsMs, 5L, "node", "public", "10.0.0.1", 40_000, user, Kind.FORWARD, "HTTP/1.1",
                "GET", host, 80, "/", status, 10, 20, null, null, outcome, reason);
    }
}
