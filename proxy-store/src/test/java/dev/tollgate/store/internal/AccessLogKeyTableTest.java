package dev.tollgate.store.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessLogKeyTableTest {

    @Test
    void aKeyIsItsValuesPrefixPlusTheRowId() {
        long prefix = AccessLogKeyTable.prefix(AccessLogKeyTable.HOST, "example.com");

        assertEquals(prefix + 42, AccessLogKeyTable.key(AccessLogKeyTable.HOST, "example.com", 42));
        assertEquals(42, AccessLogKeyTable.key(AccessLogKeyTable.HOST, "example.com", 42) & AccessLogKeyTable.MAX_ID);
        assertEquals(0, prefix & AccessLogKeyTable.MAX_ID, "a prefix leaves the id bits free");
    }

    @Test
    void hostAndClientKeysOfOneValueNeverMeetAndAllArePositive() {
        long host = AccessLogKeyTable.key(AccessLogKeyTable.HOST, "10.0.0.1", AccessLogKeyTable.MAX_ID);
        long client = AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, "10.0.0.1", AccessLogKeyTable.MAX_ID);

        assertNotEquals(host, client);
        assertTrue(host > 0 && client >= 0);
        assertTrue(client <= AccessLogKeyTable.lastKeyBefore(AccessLogKeyTable.PREFIXES / 2), "clients in the lower half");
        assertTrue(host >= AccessLogKeyTable.firstKeyOf(AccessLogKeyTable.PREFIXES / 2), "hosts in the upper half");
        assertTrue(host <= AccessLogKeyTable.lastKeyBefore(AccessLogKeyTable.PREFIXES), "inside the last range");
    }

    @Test
    void anIdNoKeyCanHoldIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> AccessLogKeyTable.key(AccessLogKeyTable.HOST, "h", AccessLogKeyTable.MAX_ID + 1));
        assertThrows(IllegalArgumentException.class, () -> AccessLogKeyTable.key(AccessLogKeyTable.HOST, "h", -1));
    }

    /** Keys are stored: the hash must give the same bits in every release (a change needs a migration). */
    @Test
    void theHashIsFixed() {
        assertEquals(-7_669_113_111_049_874_023L, AccessLogKeyTable.hash("example.com"));
    }
}
