package dev.tollgate.store.internal;

import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * <p>
 * <b>Entries</b> (since {@code V15__access_log_key_ids.sql}). A row of the table is an entry: its key {@code k}
 * names the first row of a run, {@code ids} the rest of that run, or NULL when it has none. A run is what one
 * insert gathered of one key range: the rows of one round (the indexer's, about 200 ms of traffic) whose value
 * hashes alike in one epoch. {@code ids} holds each further id as its distance from the one before, an unsigned
 * LEB128 varint (one byte up to 127, two up to 16,383, the most an epoch allows). So a value that a round sees
 * many times costs one B-tree insert, not one per row: each insert copies its path from the root (H2's
 * copy-on-write pages), about 1.7 KB of allocation, which made the keys the largest part of the store's work per
 * row (docs/performance.md, session 18). The runs of one key range never interleave: each round's ids are above
 * the last round's, so reading a range's entries in key order and each entry's ids in order yields ids in order.
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
     * Inserts many entries in one statement, a BIGINT and a VARBINARY array: a statement per key added H2's
     * per-statement set-up to every key, 13 % of the indexer's allocation at http_small (docs/performance.md,
     * session 16).
     */
    private static final String INSERT_ARRAY_SQL = "INSERT INTO access_log_key (k, ids) SELECT * FROM UNNEST(?, ?)";
    /** Entries per statement of {@link #insertKeys}: H2's arrays hold at most 65,536 elements. */
    private static final int ENTRIES_PER_STATEMENT = 50_000;
    /** The entries whose first key is in a range, both bounds inclusive, in key order. */
    public static final String SELECT_ENTRIES_SQL =
            "SELECT k, ids FROM access_log_key WHERE k >= ? AND k <= ? ORDER BY k";
    /** The lowest key, from which retention starts; NULL when the table is empty. */
    public static final String SELECT_LOWEST_KEY_SQL = "SELECT MIN(k) FROM access_log_key";
    /** Deletes every entry within the key range [first, last]: whole epochs. */
    public static final String DELETE_RANGE_SQL = "DELETE FROM access_log_key WHERE k >= ? AND k <= ?";
    /**
     * Deletes, within the key range [first, last], the single-row entries whose id has its low {@value
     * #EPOCH_ID_BITS} bits below the third parameter. An entry of several rows is read first
     * ({@link #SELECT_RUNS_BELOW_SQL}): it goes only if all its rows are below the bound, and otherwise stays,
     * holding the ids of rows that are gone, which are harmless (queries find no row for them). MOD, not a bit
     * operation, because H2 and PostgreSQL spell those differently.
     */
    public static final String DELETE_BELOW_SQL = "DELETE FROM access_log_key WHERE k >= ? AND k <= ? AND MOD(k, "
            + (1L << EPOCH_ID_BITS) + ") < ? AND ids IS NULL";
    /**
     * The entries of several rows within the key range [first, last] whose first id has its low bits below the
     * third parameter: those of them whose last id is below the bound too can go ({@link #DELETE_ENTRY_SQL}).
     */
    public static final String SELECT_RUNS_BELOW_SQL = "SELECT k, ids FROM access_log_key WHERE k >= ? AND k <= ?"
            + " AND MOD(k, " + (1L << EPOCH_ID_BITS) + ") < ? AND ids IS NOT NULL";
    /** Deletes one entry. */
    public static final String DELETE_ENTRY_SQL = "DELETE FROM access_log_key WHERE k = ?";

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
     * leaves in order), in {@code c}'s transaction, as entries: each run of keys with one offset (one value's hash,
     * type and epoch) becomes one entry. Returns how many entries it inserted.
     */
    public static int insertKeys(Connection c, long[] keys, int count) throws SQLException {
        if (count == 0) {
            return 0;
        }
        List<Long> firsts = new ArrayList<>();
        List<byte[]> rests = new ArrayList<>();
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        int inserted = 0;
        try (PreparedStatement insert = c.prepareStatement(INSERT_ARRAY_SQL)) {
            int i = 0;
            while (i < count) {
                long first = keys[i];
                long offset = first - idOf(first);
                long previous = first;
                rest.reset();
                for (i++; i < count && keys[i] - idOf(keys[i]) == offset; i++) {
                    if (keys[i] <= previous) {
                        throw new IllegalArgumentException("keys are not sorted or repeat one: " + keys[i]
                                + " after " + previous);
                    }
                    writeVarint(rest, keys[i] - previous);
                    previous = keys[i];
                }
                firsts.add(first);
                rests.add(rest.size() == 0 ? null : rest.toByteArray());
                if (firsts.size() == ENTRIES_PER_STATEMENT || i == count) {
                    insert.setArray(1, c.createArrayOf("BIGINT", firsts.toArray()));
                    insert.setArray(2, c.createArrayOf("VARBINARY", rests.toArray()));
                    inserted += insert.executeUpdate();
                    firsts.clear();
                    rests.clear();
                }
            }
        }
        return inserted;
    }

    /**
     * The row ids of the entry {@code key} with {@code ids} (as read from the table, null for a single row), in
     * id order.
     */
    public static long[] idsOf(long key, byte[] ids) {
        long first = idOf(key);
        if (ids == null) {
            return new long[] {first};
        }
        long[] out = new long[1 + ids.length];
        int n = 0;
        out[n++] = first;
        long id = first;
        int shift = 0;
        long delta = 0;
        for (byte b : ids) {
            delta |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                id += delta;
                out[n++] = id;
                delta = 0;
                shift = 0;
            } else {
                shift += 7;
                if (shift > 56) {
                    throw new IllegalArgumentException("entry " + key + ": a distance longer than 9 bytes");
                }
            }
        }
        if (shift != 0) {
            throw new IllegalArgumentException("entry " + key + ": its ids end inside a distance");
        }
        return Arrays.copyOf(out, n);
    }

    private static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7fL) != 0) {
            out.write((int) (value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
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
