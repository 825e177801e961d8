package dev.tollgate.store.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class AccessLogTableTest {

    @Test
    void aStringThatFitsIsKeptAsItIs() {
        String host = "example.org";

        assertSame(host, AccessLogTable.fit(host, 11));
        assertNull(AccessLogTable.fit(null, 11));
    }

    @Test
    void aLongStringIsCutToTheWidth() {
        assertEquals("exam", AccessLogTable.fit("example.org", 4));
    }

    @Test
    void theCutNeverSplitsASurrogatePair() {
        String smile = "ab\uD83D\uDE00"; // "ab" and one emoji: four UTF-16 units

        assertEquals("ab", AccessLogTable.fit(smile, 3));
        assertEquals(smile, AccessLogTable.fit(smile + "c", 4));
    }

    @Test
    void nulCharactersAreReplacedBecausePostgresRejectsThem() {
        assertEquals("bad\uFFFDhost", AccessLogTable.fit("bad\u0000host", 100));
    }
}
