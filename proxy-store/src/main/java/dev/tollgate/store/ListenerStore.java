package dev.tollgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Table {@code listener}: the listeners created through the admin API, per node, with the state each was
 * left in, so that the daemon can bring them back after a restart. Every call commits before it returns.
 */
public final class ListenerStore {

    // The VARCHAR widths of V2__admin.sql. Values that do not fit are refused, not cut: a cut name or
    // definition would be a different listener.
    static final int NODE_WIDTH = 255;
    static final int NAME_WIDTH = 64;
    static final int DEFINITION_WIDTH = 16_384;

    private static final String UPDATE_SQL = "UPDATE listener SET definition = ?, state = ?, updated_at = ?"
            + " WHERE node = ? AND name = ?";
    private static final String INSERT_SQL = "INSERT INTO listener"
            + " (node, name, definition, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)";
    private static final String UPDATE_STATE_SQL = "UPDATE listener SET state = ?, updated_at = ?"
            + " WHERE node = ? AND name = ?";
    private static final String DELETE_SQL = "DELETE FROM listener WHERE node = ? AND name = ?";
    private static final String SELECT_SQL = "SELECT node, name, definition, state, created_at, updated_at"
            + " FROM listener WHERE node = ?";
    private static final String LIST_SQL = SELECT_SQL + " ORDER BY created_at, name";
    private static final String FIND_SQL = SELECT_SQL + " AND name = ?";

    private final DataSource dataSource;
    private final Clock clock;

    public ListenerStore(DataSource dataSource) {
        this(dataSource, Clock.systemUTC());
    }

    ListenerStore(DataSource dataSource, Clock clock) {
        this.dataSource = dataSource;
        this.clock = clock;
    }

    /**
     * Stores listener {@code name} of {@code node}: a new one, or a new definition and state for one already
     * stored (which keeps its {@code createdAt}).
     *
     * @throws IllegalArgumentException when a value is missing, too long for its column, or {@code state} is
     *                                  neither RUNNING nor STOPPED
     */
    public void save(String node, String name, String definitionJson, String state) throws SQLException {
        checkKey(node, name);
        checkFits("definition", definitionJson, DEFINITION_WIDTH);
        checkState(state);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                // Update, then insert if there was nothing to update: an upsert in plain SQL (MERGE and
                // ON CONFLICT are not spelt the same on H2 and PostgreSQL).
                if (!update(c, node, name, definitionJson, state)) {
                    insertOrUpdateAfterRace(c, node, name, definitionJson, state);
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollback(c, e);
                throw e;
            }
        }
    }

    /**
     * Records that listener {@code name} of {@code node} is now in {@code state}.
     *
     * @return false when no such listener is stored
     */
    public boolean updateState(String node, String name, String state) throws SQLException {
        checkKey(node, name);
        checkState(state);
        try (Connection c = dataSource.getConnection();
             PreparedStatement update = c.prepareStatement(UPDATE_STATE_SQL)) {
            update.setString(1, state);
            update.setObject(2, now());
            update.setString(3, node);
            update.setString(4, name);
            return update.executeUpdate() > 0;
        }
    }

    /** Removes listener {@code name} of {@code node}; false when there was none. */
    public boolean delete(String node, String name) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement delete = c.prepareStatement(DELETE_SQL)) {
            delete.setString(1, node);
            delete.setString(2, name);
            return delete.executeUpdate() > 0;
        }
    }

    /** The listeners stored for {@code node}, oldest first (by {@code createdAt}, then name): start-up order. */
    public List<StoredListener> list(String node) throws SQLException {
        List<StoredListener> listeners = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(LIST_SQL)) {
            select.setString(1, node);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    listeners.add(read(rs));
                }
            }
        }
        return listeners;
    }

    /** Listener {@code name} of {@code node}, if stored. */
    public Optional<StoredListener> find(String node, String name) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(FIND_SQL)) {
            select.setString(1, node);
            select.setString(2, name);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    private boolean update(Connection c, String node, String name, String definitionJson, String state)
            throws SQLException {
        try (PreparedStatement update = c.prepareStatement(UPDATE_SQL)) {
            update.setString(1, definitionJson);
            update.setString(2, state);
            update.setObject(3, now());
            update.setString(4, node);
            update.setString(5, name);
            return update.executeUpdate() > 0;
        }
    }

    /**
     * Inserts the row; if another connection inserted the same key since our update found nothing (a unique
     * violation, SQLSTATE 23505), updates that row instead. PostgreSQL aborts a transaction at its first
     * failed statement, so the update runs after a rollback, in a transaction of its own.
     */
    private void insertOrUpdateAfterRace(Connection c, String node, String name, String definitionJson,
                                         String state) throws SQLException {
        OffsetDateTime now = now();
        try (PreparedStatement insert = c.prepareStatement(INSERT_SQL)) {
            insert.setString(1, node);
            insert.setString(2, name);
            insert.setString(3, definitionJson);
            insert.setString(4, state);
            insert.setObject(5, now);
            insert.setObject(6, now);
            insert.executeUpdate();
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState())) {
                throw e;
            }
            c.rollback();
            if (!update(c, node, name, definitionJson, state)) {
                throw e;
            }
        }
    }

    private static void rollback(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private OffsetDateTime now() {
        return OffsetDateTime.ofInstant(clock.instant().truncatedTo(ChronoUnit.MILLIS), ZoneOffset.UTC);
    }

    private static StoredListener read(ResultSet rs) throws SQLException {
        return new StoredListener(
                rs.getString("node"),
                rs.getString("name"),
                rs.getString("definition"),
                rs.getString("state"),
                instant(rs, "created_at"),
                instant(rs, "updated_at"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }

    private static void checkKey(String node, String name) {
        checkFits("node", node, NODE_WIDTH);
        checkFits("name", name, NAME_WIDTH);
    }

    private static void checkFits(String key, String value, int width) {
        if (value == null) {
            throw new IllegalArgumentException(key + ": missing");
        }
        if (value.length() > width) {
            throw new IllegalArgumentException(key + ": " + value.length() + " characters is too long (at most "
                    + width + ")");
        }
    }

    private static void checkState(String state) {
        if (!StoredListener.RUNNING.equals(state) && !StoredListener.STOPPED.equals(state)) {
            throw new IllegalArgumentException("state: \"" + state + "\" is neither " + StoredListener.RUNNING
                    + " nor " + StoredListener.STOPPED);
        }
    }
}
