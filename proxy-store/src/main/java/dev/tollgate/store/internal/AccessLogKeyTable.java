package dev.tollgate.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Comparator;

/**
 * Tables {@code access_log_key} and {@code access_log_key_mark} of {@code V3__access_log_indexes.sql} as the
 * Java side sees them: the key types, the statements, and the order keys are inserted in. The indexer and
 * the query SQL share it so that they cannot disagree about a key.
 */
public final class AccessLogKeyTable {

    /** Key type of a row's host. */
    public static final String HOST = "H";
    /** Key type of a row's client_addr. */
    public static final String CLIENT = "C";

    /** One key row: a host or client value and the access_log id it points to. */
    public record Key(String type, String value, long id) {
    }

    /**
     * The primary key's order. Inserting in this order keeps a round's inserts together in the index, which
     * is what makes a bulk round cheap on H2. Strings compare by UTF-16 units here and by collation in the
     * database; the order only affects speed, never what is stored.
     */
    public static final Comparator<Key> PRIMARY_KEY_ORDER = Comparator.comparing(Key::type)
            .thenComparing(Key::value)
            .thenComparingLong(Key::id);

    // FOR UPDATE: two daemons sharing one PostgreSQL database each run an indexer; the lock makes the second
    // wait for the first's round and then read the mark it left, so they never insert the same keys.
    public static final String SELECT_MARK_FOR_UPDATE_SQL = "SELECT id FROM access_log_key_mark FOR UPDATE";
    public static final String SELECT_MARK_SQL = "SELECT id FROM access_log_key_mark";
    public static final String UPDATE_MARK_SQL = "UPDATE access_log_key_mark SET id = ?";
    /** Rows not yet indexed, oldest first; parameters: the mark, the most rows. */
    public static final String SELECT_UNINDEXED_SQL =
            "SELECT id, host, client_addr FROM access_log WHERE id > ? ORDER BY id FETCH FIRST ? ROWS ONLY";
    public static final String INSERT_SQL = "INSERT INTO access_log_key (key_type, key_value, id) VALUES (?, ?, ?)";
    /** Deletes the keys of one id window [from, to); retention deletes window by window. */
    public static final String DELETE_WINDOW_SQL = "DELETE FROM access_log_key WHERE id >= ? AND id < ?";
    /** The lowest id with a key, served by access_log_key_id_idx. */
    public static final String MIN_ID_SQL = "SELECT MIN(id) FROM access_log_key";

    private AccessLogKeyTable() {
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
