package dev.tollgate.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Tables {@code access_log_key} ({@code V5__access_log_key_hashed.sql}) and {@code access_log_key_mark}
 * ({@code V3__access_log_indexes.sql}) as the Java side sees them: how a key is packed, the statements, and
 * the key ranges queries and retention read. The indexer and the query SQL share it so that they cannot
 * disagree about a key.
 * <p>
 * A key is one positive BIGINT: bit 62 its type (1 a row's host, 0 its client_addr), bits 44 to 61 an 18-bit
 * hash of the host or client, bits 0 to 43 the row's id. All keys of one value therefore sit together in id
 * order, so "this host, ids after x, in id order" is one range scan of the primary key: from
 * {@code prefix + x + 1} up to {@code prefix + mark}, each key's row being {@code id = k - prefix}. Values
 * whose hashes collide share a range, so a query still compares the value of every row it reads.
 * <p>
 * The hash is stored: changing {@link #hash} needs a migration that empties the table and resets the mark.
 */
public final class AccessLogKeyTable {

    /** Key type of a row's host. */
    public static final String HOST = "H";
    /** Key type of a row's client_addr. */
    public static final String CLIENT = "C";

    static final int ID_BITS = 44;
    static final int HASH_BITS = 18;
    private static final long HOST_BIT = 1L << (ID_BITS + HASH_BITS);
    private static final long HASH_MASK = (1L << HASH_BITS) - 1;
    /** The highest id a key can hold (about 17.6 trillion); the indexer leaves rows above it unindexed. */
    public static final long MAX_ID = (1L << ID_BITS) - 1;
    /** Ids a retention delete may take out, one key prefix range at a time: 2 types x 2^18 hashes. */
    public static final int PREFIXES = 2 << HASH_BITS;

    // FOR UPDATE: two daemons sharing one PostgreSQL database each run an indexer; the lock makes the second
    // wait for the first's round and then read the mark it left, so they never insert the same keys.
    public static final String SELECT_MARK_FOR_UPDATE_SQL = "SELECT id FROM access_log_key_mark FOR UPDATE";
    public static final String SELECT_MARK_SQL = "SELECT id FROM access_log_key_mark";
    public static final String UPDATE_MARK_SQL = "UPDATE access_log_key_mark SET id = ?";
    /** Rows not yet indexed, oldest first; parameters: the mark, the most rows. */
    public static final String SELECT_UNINDEXED_SQL =
            "SELECT id, host, client_addr FROM access_log WHERE id > ? ORDER BY id FETCH FIRST ? ROWS ONLY";
    public static final String INSERT_SQL = "INSERT INTO access_log_key (k) VALUES (?)";
    /**
     * Deletes, within the key range [first, last], the keys of rows with an id below the third parameter. MOD,
     * not a bit operation, because H2 and PostgreSQL spell those differently.
     */
    public static final String DELETE_BELOW_SQL =
            "DELETE FROM access_log_key WHERE k >= ? AND k <= ? AND MOD(k, " + (1L << ID_BITS) + ") < ?";

    private AccessLogKeyTable() {
    }

    /** The key of {@code value} of {@code type} in row {@code id}, which must be at most {@link #MAX_ID}. */
    public static long key(String type, String value, long id) {
        if (id < 0 || id > MAX_ID) {
            throw new IllegalArgumentException("id " + id + " is outside 0.." + MAX_ID);
        }
        return prefix(type, value) + id;
    }

    /** The lowest key of {@code value} of {@code type}: each of its keys is this plus a row's id. */
    public static long prefix(String type, String value) {
        long typeBit = switch (type) {
            case HOST -> HOST_BIT;
            case CLIENT -> 0;
            default -> throw new IllegalArgumentException("unknown key type " + type);
        };
        return typeBit | (hash(value) & HASH_MASK) << ID_BITS;
    }

    /** The first key of the {@code n}th of the {@link #PREFIXES} key ranges, which follow each other in key order. */
    public static long firstKeyOf(long n) {
        return n << ID_BITS;
    }

    /** The last key before the {@code n}th key range; for {@code n = PREFIXES}, the last key of all. */
    public static long lastKeyBefore(long n) {
        return n >= PREFIXES ? Long.MAX_VALUE : firstKeyOf(n) - 1;
    }

    /**
     * A 64-bit FNV-1a hash of {@code value}'s UTF-16 units, its bits mixed by MurmurHash3's finalizer so that
     * the low 18 spread well. Defined here, not by String.hashCode, because keys outlive JVM versions.
     */
    static long hash(String value) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < value.length(); i++) {
            h ^= value.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** The highest access_log id whose keys are stored; {@code c}'s transaction decides which commit it sees. */
    public static long mark(Connection c, String sql) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(sql);
             ResultSet rs = select.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("access_log_key_mark has no row (V3__access_log_indexes.sql inserts it)");
            }
            return rs.getLong(1);
        }
    }
}
