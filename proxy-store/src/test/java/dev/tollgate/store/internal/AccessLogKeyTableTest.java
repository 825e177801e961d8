package dev.tollgate.store.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessLogKeyTableTest {

    @Test
    void aKeyIsItsRowsIdPlusTheOffsetOfItsValueInTheIdsEpoch() {
        long id = 3 * AccessLogKeyTable.IDS_PER_EPOCH + 42;
        long offset = AccessLogKeyTable.offset(AccessLogKeyTable.HOST, "example.com", 3);

        assertEquals(3, AccessLogKeyTable.epochOf(id));
        assertEquals(offset + id, AccessLogKeyTable.key(AccessLogKeyTable.HOST, "example.com", id));
        assertEquals(offset + id + 1, AccessLogKeyTable.key(AccessLogKeyTable.HOST, "example.com", id + 1));
        assertEquals(id, AccessLogKeyTable.idOf(AccessLogKeyTable.key(AccessLogKeyTable.HOST, "example.com", id)));
        assertEquals(3, AccessLogKeyTable.epochOfKey(AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, "x", id)));
        assertEquals(42, AccessLogKeyTable.withinEpoch(id));
    }

    @Test
    void theKeysOfOneEpochLieBetweenThoseOfTheEpochsAroundIt() {
        long epoch = 7;
        long lastOfEpoch = AccessLogKeyTable.lastIdOf(epoch);
        for (String type : new String[] {AccessLogKeyTable.HOST, AccessLogKeyTable.CLIENT}) {
            for (String value : new String[] {"a", "example.com", "10.0.0.1", "zzz"}) {
                long first = AccessLogKeyTable.key(type, value, AccessLogKeyTable.firstIdOf(epoch));
                long last = AccessLogKeyTable.key(type, value, lastOfEpoch);
                assertTrue(first > AccessLogKeyTable.lastKeyBefore(epoch), value);
                assertTrue(last <= AccessLogKeyTable.lastKeyBefore(epoch + 1), value);
                assertEquals(lastOfEpoch - AccessLogKeyTable.firstIdOf(epoch), last - first, "contiguous: " + value);
                assertTrue(AccessLogKeyTable.key(type, value, lastOfEpoch + 1)
                        > AccessLogKeyTable.lastKeyBefore(epoch + 1), value);
            }
        }
    }

    @Test
    void hostAndClientKeysOfOneValueNeverMeetAndAllArePositive() {
        long host = AccessLogKeyTable.key(AccessLogKeyTable.HOST, "10.0.0.1", AccessLogKeyTable.MAX_ID);
        long client = AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, "10.0.0.1", AccessLogKeyTable.MAX_ID);

        assertNotEquals(host, client);
        assertTrue(host > 0 && client > 0);
        assertEquals(AccessLogKeyTable.LAST_EPOCH, AccessLogKeyTable.epochOfKey(host));
        assertEquals(AccessLogKeyTable.MAX_ID, AccessLogKeyTable.idOf(host));
        assertEquals(Long.MAX_VALUE, AccessLogKeyTable.lastKeyBefore(AccessLogKeyTable.LAST_EPOCH + 1));
        assertTrue(host > AccessLogKeyTable.lastKeyBefore(AccessLogKeyTable.LAST_EPOCH));
    }

    @Test
    void anIdNoKeyCanHoldIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> AccessLogKeyTable.key(AccessLogKeyTable.HOST, "h", AccessLogKeyTable.MAX_ID + 1));
        assertThrows(IllegalArgumentException.class, () -> AccessLogKeyTable.key(AccessLogKeyTable.HOST, "h", -1));
    }

    @Test
    void anEntrysIdsAreItsFirstIdThenEachDistanceOnFromTheOneBefore() {
        long id = 3 * AccessLogKeyTable.IDS_PER_EPOCH + 42;
        long key = AccessLogKeyTable.key(AccessLogKeyTable.HOST, "example.com", id);

        assertArrayEquals(new long[] {id}, AccessLogKeyTable.idsOf(key, null));
        // 1, then 129 (0x81 0x01: seven bits, then the next seven), then 16,383 (0xff 0x7f).
        assertArrayEquals(new long[] {id, id + 1, id + 130, id + 130 + 16_383}, AccessLogKeyTable.idsOf(key,
                new byte[] {1, (byte) 0x81, 1, (byte) 0xff, 0x7f}));
        assertThrows(IllegalArgumentException.class, () -> AccessLogKeyTable.idsOf(key, new byte[] {1, (byte) 0x81}),
                "cut inside a distance");
    }

    /** Keys are stored: the hash must give the same bits in every release (a change needs a migration). */
    @Test
    void theHashIsFixed() {
        assertEquals(-7_669_113_111_049_874_023L, AccessLogKeyTable.hash("example.com"));
    }
}
