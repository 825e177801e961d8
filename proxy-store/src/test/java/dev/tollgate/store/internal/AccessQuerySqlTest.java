package dev.tollgate.store.internal;

import dev.tollgate.store.AccessQuery;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.internal.AccessQuerySql.IdRange;
import dev.tollgate.store.internal.AccessQuerySql.KeyFilter;
import dev.tollgate.store.internal.AccessQuerySql.KeyedIds;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessQuerySqlTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void noFilterReadsFromTheCursorInIdOrder() {
        AccessQuerySql page = AccessQuerySql.page(AccessQuery.all().withAfter(5), null);

        assertEquals(AccessLogTable.SELECT_SQL + " WHERE id > ? ORDER BY id LIMIT ?", page.sql());
        assertEquals(List.of(5L, 100), page.parameters());
    }

    @Test
    void anUnlimitedSelectHasNoLimit() {
        AccessQuerySql all = AccessQuerySql.unlimited(AccessQuery.all().withLimit(3), null);

        assertFalse(all.sql().contains("LIMIT"), all.sql());
        assertEquals(List.of(0L), all.parameters());
    }

    @Test
    void everyFilterIsAPlaceholderAndNoValueReachesTheSqlText() {
        String evil = "x' OR '1'='1";
        AccessQuery q = AccessQuery.all().withHost(evil).withClient(evil).withMethod(evil).withListener(evil)
                .withUsername(evil).withStatusClass(4).withOutcome(Outcome.DENIED).withKind(Kind.FORWARD);

        AccessQuerySql page = AccessQuerySql.page(q, null);

        assertFalse(page.sql().contains("'1'"), page.sql());
        assertEquals("WHERE id > ? AND host = ? AND client_addr = ? AND method = ? AND status >= ? AND status < ?"
                + " AND listener = ? AND username = ? AND outcome = ? AND kind = ? ORDER BY id LIMIT ?",
                page.sql().substring(page.sql().indexOf("WHERE")));
        assertEquals(List.of(0L, evil, evil, evil, 400, 500, evil, evil, "DENIED", "FORWARD", 100),
                page.parameters());
    }

    @Test
    void aTimeRangeIsFirstTurnedIntoIdsThenBoundsTheSelect() {
        AccessQuery q = AccessQuery.all().withSince(T0).withUntil(T0.plusSeconds(3600)).withAfter(7);

        AccessQuerySql probe = AccessQuerySql.idRange(q);
        AccessQuerySql page = AccessQuerySql.page(q, new IdRange(20, 90));

        assertEquals("SELECT MIN(id), MAX(id), COUNT(*) FROM access_log WHERE ts >= ? AND ts < ?", probe.sql());
        assertEquals(List.of(utc(T0), utc(T0.plusSeconds(3600))), probe.parameters());
        assertTrue(page.sql().endsWith("WHERE id > ? AND id <= ? AND ts >= ? AND ts < ? ORDER BY id LIMIT ?"),
                page.sql());
        assertEquals(List.of(19L, 90L, utc(T0), utc(T0.plusSeconds(3600)), 100), page.parameters());
    }

    @Test
    void aCursorPastTheStartOfTheIdRangeWins() {
        AccessQuery q = AccessQuery.all().withSince(T0).withAfter(50);

        AccessQuerySql page = AccessQuerySql.page(q, new IdRange(20, 90));

        assertEquals(List.of(50L, 90L, utc(T0), 100), page.parameters());
    }

    @Test
    void aSuffixPatternBecomesAnEscapedLike() {
        AccessQuerySql page = AccessQuerySql.page(AccessQuery.all().withHost("*.example.com"), null);

        assertTrue(page.sql().contains("host LIKE ? ESCAPE '!'"), page.sql());
        assertEquals("%.example.com", page.parameters().get(1));
    }

    @Test
    void likeWildcardsInTheDomainMatchOnlyThemselves() {
        assertEquals("%.a!%b!_c!!d", AccessQuerySql.anySubdomainOf("a%b_c!d"));
    }

    @Test
    void anExactHostReadsTheKeysUpToTheMarkThenTheTailAboveIt() {
        AccessQuery q = AccessQuery.all().withHost("h.example").withClient("10.0.0.1").withAfter(5);
        KeyFilter key = AccessQuerySql.keyFilter(q);
        KeyedIds keyed = AccessQuerySql.keyedIds(q, null, 70);

        AccessQuerySql entries = AccessQuerySql.entries(key, keyed, 0);
        AccessQuerySql indexed = AccessQuerySql.indexed(q, new Long[] {6L, 9L}, true);
        AccessQuerySql tail = AccessQuerySql.unindexedTail(q, null, 70, true);

        assertEquals(new KeyFilter(AccessLogKeyTable.HOST, "h.example"), key);
        assertEquals(new KeyedIds(5, 70), keyed);
        assertEquals(0, keyed.firstEpoch());
        assertEquals(0, keyed.lastEpoch());
        long offset = AccessLogKeyTable.offset(AccessLogKeyTable.HOST, "h.example", 0);
        // From the epoch's first id: an entry that starts at or below id 5 may hold ids above it.
        assertEquals(List.of(offset, offset + 70), entries.parameters());
        assertFalse(keyed.contains(5));
        assertTrue(keyed.contains(6));
        assertTrue(keyed.contains(70));
        assertFalse(keyed.contains(71));
        assertTrue(indexed.sql().endsWith(" WHERE id = ANY(?) AND host = ? AND client_addr = ? ORDER BY id LIMIT ?"),
                indexed.sql());
        assertArrayEquals(new Long[] {6L, 9L}, (Long[]) indexed.parameters().get(0));
        assertEquals(List.of("h.example", "10.0.0.1", 100), indexed.parameters().subList(1, 4));
        assertEquals(List.of(70L, "h.example", "10.0.0.1", 100), tail.parameters());
    }

    @Test
    void aRangeAcrossEpochsIsReadOneEpochAtATimeInOneStatementText() {
        AccessQuery q = AccessQuery.all().withHost("h.example");
        long perEpoch = AccessLogKeyTable.IDS_PER_EPOCH;
        KeyedIds keyed = AccessQuerySql.keyedIds(q.withAfter(perEpoch - 10), null, 2 * perEpoch + 10);
        KeyFilter key = AccessQuerySql.keyFilter(q);

        assertEquals(0, keyed.firstEpoch());
        assertEquals(2, keyed.lastEpoch());
        AccessQuerySql first = AccessQuerySql.entries(key, keyed, 0);
        AccessQuerySql middle = AccessQuerySql.entries(key, keyed, 1);
        AccessQuerySql last = AccessQuerySql.entries(key, keyed, 2);

        assertEquals(first.sql(), middle.sql());
        assertEquals(first.sql(), last.sql());
        long[] offsets = new long[3];
        for (int e = 0; e < 3; e++) {
            offsets[e] = AccessLogKeyTable.offset(AccessLogKeyTable.HOST, "h.example", e);
        }
        assertEquals(List.of(offsets[0], offsets[0] + perEpoch - 1), first.parameters());
        assertEquals(List.of(offsets[1] + perEpoch, offsets[1] + 2 * perEpoch - 1), middle.parameters());
        assertEquals(List.of(offsets[2] + 2 * perEpoch, offsets[2] + 2 * perEpoch + 10), last.parameters());
        assertEquals(AccessQuerySql.indexed(q, new Long[] {1L}, true).sql(),
                AccessQuerySql.indexed(q, new Long[] {1L, 2L, 3L}, true).sql());
    }

    @Test
    void nothingIsIndexedAfterTheMark() {
        assertTrue(AccessQuerySql.keyedIds(AccessQuery.all().withHost("h").withAfter(70), null, 70).isEmpty());
        assertTrue(AccessQuerySql.keyedIds(AccessQuery.all().withHost("h"), new IdRange(80, 90), 70).isEmpty());
    }

    @Test
    void aClientAloneIsTheKeyAndASuffixPatternIsNone() {
        assertEquals(new KeyFilter(AccessLogKeyTable.CLIENT, "10.0.0.1"),
                AccessQuerySql.keyFilter(AccessQuery.all().withHost("*.example.com").withClient("10.0.0.1")));
        assertEquals(null, AccessQuerySql.keyFilter(AccessQuery.all().withHost("*.example.com")));
    }

    @Test
    void aTimeRangeNarrowsTheKeyRangeToo() {
        AccessQuery q = AccessQuery.all().withClient("10.0.0.1").withSince(T0);
        KeyedIds keyed = AccessQuerySql.keyedIds(q, new IdRange(20, 90), 70);

        AccessQuerySql entries = AccessQuerySql.entries(AccessQuerySql.keyFilter(q), keyed, 0);
        AccessQuerySql indexed = AccessQuerySql.indexed(q, new Long[] {20L}, false);

        assertEquals(new KeyedIds(19, 70), keyed);
        long offset = AccessLogKeyTable.offset(AccessLogKeyTable.CLIENT, "10.0.0.1", 0);
        assertEquals(List.of(offset, offset + 70), entries.parameters());
        assertEquals(List.of(utc(T0), "10.0.0.1"), indexed.parameters().subList(1, 3));
        assertFalse(indexed.sql().contains("LIMIT"), indexed.sql());
    }

    private static OffsetDateTime utc(Instant i) {
        return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
    }
}
