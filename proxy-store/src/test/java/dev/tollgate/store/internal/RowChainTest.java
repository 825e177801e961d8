package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The canonical bytes of a row and the chain over them. */
class RowChainTest {

    private final RowChain<AccessRecord> chain = RowChain.accessLog();

    @Test
    void aNullColumnDiffersFromAnEmptyOne() {
        assertFalse(Arrays.equals(chain.canonical(1, record(null, "/")), chain.canonical(1, record("", "/"))));
    }

    @Test
    void aValueMovedToTheNextColumnChangesTheBytes() {
        // "ab" + "" and "a" + "b" must not hash alike: each value carries its column's tag and its length.
        assertFalse(Arrays.equals(chain.canonical(1, record("ab", "")), chain.canonical(1, record("a", "b"))));
    }

    @Test
    void aStringIsHashedAsItIsStoredCutToItsColumn() {
        String longPath = "/" + "p".repeat(AccessLogTable.PATH_WIDTH + 100);
        String stored = AccessLogTable.fit(longPath, AccessLogTable.PATH_WIDTH);

        assertArrayEquals(chain.canonical(7, record("u", stored)), chain.canonical(7, record("u", longPath)));
    }

    @Test
    void theSeqTheNodeAndThePreviousChainAreAllCovered() {
        byte[] genesis = RowChain.genesis();
        byte[] one = chain.next(genesis, 1, record("u", "/"));

        assertFalse(Arrays.equals(one, chain.next(genesis, 2, record("u", "/"))), "another seq");
        assertFalse(Arrays.equals(one, chain.next(one, 1, record("u", "/"))), "another previous row");
        AccessRecord otherNode = new AccessRecord(null, 1_000L, 12L, "node-b", "public", "127.0.0.1", 40_000, "u",
                Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, "/", 200, 0L, 512L, null, null, Outcome.OK, null);
        assertFalse(Arrays.equals(one, chain.next(genesis, 1, otherNode)), "another node");
        assertEquals(RowChain.LENGTH, one.length);
    }

    @Test
    void aColumnAddedLaterAndNullLeavesAnOlderRowsBytesAsTheyWere() {
        List<ChainedColumn<AccessRecord>> withNewColumn = new ArrayList<>(AccessLogTable.CHAINED_COLUMNS);
        withNewColumn.add(ChainedColumn.text("future_column", 64, r -> null));

        assertArrayEquals(chain.canonical(3, record("u", "/")),
                new RowChain<>(withNewColumn).canonical(3, record("u", "/")));
    }

    @Test
    void textIsEncodedAsUtf8WithSupplementaryCharactersWhole() {
        byte[] bytes = chain.canonical(1, record("\u00e9\u20ac\uD83D\uDE00", "/"));
        byte[] expected = "\u00e9\u20ac\uD83D\uDE00".getBytes(java.nio.charset.StandardCharsets.UTF_8);

        assertEquals(expected.length, 9);
        assertFalse(indexOf(bytes, expected) < 0, "the user name's UTF-8 bytes are in the canonical bytes");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    private static AccessRecord record(String username, String path) {
        return new AccessRecord(null, 1_000L, 12L, "node-a", "public", "127.0.0.1", 40_000, username, Kind.FORWARD,
                "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 512L, null, null, Outcome.OK, null);
    }
}
