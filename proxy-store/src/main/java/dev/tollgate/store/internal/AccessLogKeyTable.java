package dev.tollgate.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Tables {@code access_log_key} ({@code V5__access_log_key_hashed.sql}, keys laid out as below since
 * {@code V6__access_log_key_epochs.sql}) and {@code access_log_key_mark} ({@code V3__access_log_indexes.sql}) as
 * the Java side sees them: how a key is packed, the statements, and the key ranges queries and retention read.
 * The indexer and the query SQL share it so that they cannot disagree about a key.
 * <p>
 * A key is one positive BIGINT. From the top: the row id's epoch (its id without the low {@value #EPOCH_ID_BITS}
 * bits, so each epoch holds 16,384 consecutive ids), one bit for the type (1 a row's host, 0 its client_addr),
 * an 18-bit hash of the host or client, then the id's low {@value #EPOCH_ID_BITS} bits. Within an epoch the keys
 * of one value therefore sit together in id order: "this host, ids x to y of epoch e" is one range scan of the
 * primary key, each key's row being {@code id = k - offset} ({@link #offset}). A query walks the epochs of its
 * id range one after the other. Values whose hashes collide share a range, so a query still compares the value
 * of every row it reads.
 * <p>
 * Why epochs first: new rows' keys then all fall into the newest epoch's part of the B-tree, a few hundred
 * leaves, instead of one leaf per distinct host and client anywhere in the table. H2 rewrites every leaf a
 * round dirties at the next commit, so with many hosts that cut the indexer's and writer's CPU per row by half
 * and the bytes written per row by five sixths (docs/performance.md, session 8). Retention deletes whole
 * epochs from the low end of the table.
 * <p>
 * The hash is stored: changing {@link #hash} or the layout needs a migration that empties the table and resets
 * the mark.
 */
public final class AccessLogKeyTable {

    /** Key type of a row's host. */
    public static final String HOST = "H";
    /** Key type of a row's client_addr. */
    public static final String CLIENT = "C";

    static final int ID_BITS = 44;
    static final int HASH_BITS = 18;
    /** Low bits of an id kept in its key; the rest, the epoch, leads the key. */
    static final int EPOCH_ID_BITS = 14;
    private static final int EPOCH_SHIFT = 1 + HASH_BITS + EPOCH_ID_BITS;
    private static final long HOST_BIT = 1L << (HASH_BITS + EPOCH_ID_BITS);
    private static final long HASH_MASK = (1L << HASH_BITS) - 1;
    private static final long WITHIN_EPOCH_MASK = (1L << EPOCH_ID_BITS) - 1;
    /** The highest id a key can hold (about 17.6 trillion); the indexer leaves rows above it unindexed. */
    public static final long MAX_ID = (1L << ID_BITS) - 1;
    /** Consecutive ids per epoch. */
    public static final long IDS_PER_EPOCH = 1L << EPOCH_ID_BITS;
    /** The highest epoch, that of {@link #MAX_ID}. */
    public static final long LAST_EPOCH = MAX_ID >>> EPOCH_ID_BITS;

    // FOR UPDATE: two daemons sharing one PostgreSQL database each run an indexer; the lock makes the second
    // wait for the first's round and then read the mark it left, so they never insert the same keys.
    public static final String SELECT_MARK_FOR_UPDATE_SQL = "SELECT id FROM access_log_key_mark FOR UPDATE";
    public static final String SELECT_MARK_SQL = "SELECT id FROM access_log_key_mark";
    public static final String UPDATE_MARK_SQL = "UPDATE access_log_key_mark SET id = ?";
    /**
     * Rows not yet indexed, oldest first, with the columns their ranks count (SummaryDelta: on H2 the indexer keeps
     * access_summary_key_hour too); parameters: the mark, the most rows.
     */
    public static final String SELECT_UNINDEXED_SQL = "SELECT id, " + SummaryDelta.COLUMNS
            + " FROM access_log WHERE id > ? ORDER BY id FETCH FIRST ? ROWS ONLY";
    /**
     * Inserts many keys in one statement, one BIGINT array: a statement per key added H2's per-statement set-up to
     * every key, 13 % of the indexer's allocation at http_small (docs/performance.md, session 16).
     */
    private static final String INSERT_ARRAY_SQL = "INSERT INTO access_log_key (k) SELECT * FROM UNNEST(?)";
    /** Keys per statement of {@link #insertKeys}: H2's arrays hold at most 65,536 elements. */
    private static final int KEYS_PER_STATEMENT = 50_000;
    /** The lowest key, from which retention starts; NULL when the table is empty. */
    public static final String SELECT_LOWEST_KEY_SQL = "SELECT MIN(k) FROM access_log_key";
    /**
     * Deletes, within the key range [first, last], the keys whose id has its low {@value #EPOCH_ID_BITS} bits
     * below the third parameter. MOD, not a bit operation, because H2 and PostgreSQL spell those differently.
     */
    public static final String DELETE_BELOW_SQL =
            "DELETE FROM access_log_key WHERE k >= ? AND k <= ? AND MOD(k, " + (1L << EPOCH_ID_BITS) + ") < ?";

    private AccessLogKeyTable() {
    }

    /** The key of {@code value} of {@code type} in row {@code id}, which must be at most {@link #MAX_ID}. */
    public static long key(String type, String value, long id) {
        if (id < 0 || id > MAX_ID) {
            throw new IllegalArgumentException("id " + id + " is outside 0.." + MAX_ID);
        }
        return offset(type, value, epochOf(id)) + id;
    }

    /**
     * What every key of {@code value} of {@code type} in {@code epoch} exceeds its row's id by: for each id of
     * that epoch, its key is {@code id + offset}.
     */
    public static long offset(String type, String value, long epoch) {
        long typeBit = switch (type) {
            case HOST -> HOST_BIT;
            case CLIENT -> 0;
            default -> throw new IllegalArgumentException("unknown key type " + type);
        };
        return firstKeyOf(epoch) + (typeBit | (hash(value) & HASH_MASK) << EPOCH_ID_BITS) - firstIdOf(epoch);
    }

    /** The epoch of row {@code id}. */
    public static long epochOf(long id) {
        return id >>> EPOCH_ID_BITS;
    }

    /** The lowest id of {@code epoch}. */
    public static long firstIdOf(long epoch) {
        return epoch << EPOCH_ID_BITS;
    }

    /** The highest id of {@code epoch}. */
    public static long lastIdOf(long epoch) {
        return firstIdOf(epoch + 1) - 1;
    }

    /** The row id {@code key} points to. */
    public static long idOf(long key) {
        return firstIdOf(key >>> EPOCH_SHIFT) | key & WITHIN_EPOCH_MASK;
    }

    /** The epoch of the row {@code key} points to. */
    public static long epochOfKey(long key) {
        return key >>> EPOCH_SHIFT;
    }

    /** The lowest key of {@code epoch}: the keys of each epoch follow those of the one before. */
    public static long firstKeyOf(long epoch) {
        return epoch << EPOCH_SHIFT;
    }

    /** The highest key of the epochs before {@code epoch}; for one after {@link #LAST_EPOCH}, the last key of all. */
    public static long lastKeyBefore(long epoch) {
        return epoch > LAST_EPOCH ? Long.MAX_VALUE : firstKeyOf(epoch) - 1;
    }

    /** The low bits of {@code id} that its key keeps, which {@link #DELETE_BELOW_SQL} compares. */
    public static long withinEpoch(long id) {
        return id & WITHIN_EPOCH_MASK;
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

    /**
     * Inserts the first {@code count} of {@code keys}, which must be sorted (so that they fill the newest epoch's
     * leaves in order), in {@code c}'s transaction: {@value #KEYS_PER_STATEMENT} keys per statement at most.
     */
    public static void insertKeys(Connection c, long[] keys, int count) throws SQLException {
        if (count == 0) {
            return;
        }
        try (PreparedStatement insert = c.prepareStatement(INSERT_ARRAY_SQL)) {
            for (int from = 0; from < count; from += KEYS_PER_STATEMENT) {
                Long[] some = new Long[Math.min(KEYS_PER_STATEMENT, count - from)];
                for (int i = 0; i < some.length; i++) {
                    some[i] = keys[from + i];
                }
                insert.setArray(1, c.createArrayOf("BIGINT", some));
                insert.executeUpdate();
            }
        }
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
