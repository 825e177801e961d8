package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogTable;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Table {@code admin_event}: who changed what through the admin API. Unlike access records, these are few,
 * and each is written at once, on the caller's thread, so that none is lost to a crash.
 */
public final class AdminEventLog {

    public static final int MAX_LIMIT = AccessQuery.MAX_LIMIT;
    // The VARCHAR widths of V2__admin.sql. Each string is cut to fit rather than refused: an audit row
    // with a shortened detail is better than none.
    static final int NODE_WIDTH = 255;
    static final int ROLE_WIDTH = 16;
    static final int CLIENT_ADDR_WIDTH = 64;
    static final int ACTION_WIDTH = 64;
    static final int LISTENER_WIDTH = 64;
    static final int RESULT_WIDTH = 16;
    static final int DETAIL_WIDTH = 1024;

    private static final String COLUMNS = "ts, node, role, client_addr, action, listener, result, status, detail";
    private static final String INSERT_SQL = "INSERT INTO admin_event (" + COLUMNS + ")"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String SELECT_AFTER_SQL = "SELECT id, " + COLUMNS + " FROM admin_event"
            + " WHERE id > ? ORDER BY id LIMIT ?";

    private final DataSource dataSource;

    public AdminEventLog(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Stores {@code e} and returns once it is committed. Its {@code id} is ignored: the database assigns one.
     *
     * @throws SQLException when it could not be stored; the caller decides whether the call it records may
     *                      still go ahead
     */
    public void record(AdminEvent e) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement insert = c.prepareStatement(INSERT_SQL)) {
            int i = 1;
            insert.setObject(i++, OffsetDateTime.ofInstant(e.ts(), ZoneOffset.UTC));
            insert.setString(i++, AccessLogTable.fit(e.node(), NODE_WIDTH));
            insert.setString(i++, AccessLogTable.fit(e.role(), ROLE_WIDTH));
            insert.setString(i++, AccessLogTable.fit(e.clientAddr(), CLIENT_ADDR_WIDTH));
            insert.setString(i++, AccessLogTable.fit(e.action(), ACTION_WIDTH));
            insert.setString(i++, AccessLogTable.fit(e.listener(), LISTENER_WIDTH));
            insert.setString(i++, AccessLogTable.fit(e.result(), RESULT_WIDTH));
            insert.setInt(i++, e.status());
            insert.setString(i, AccessLogTable.fit(e.detail(), DETAIL_WIDTH));
            insert.executeUpdate();
        }
    }

    /**
     * Up to {@code limit} events with an id greater than {@code after}, oldest first, each with its id. Start
     * with {@code after} 0 and pass the last id of each page to get the next.
     *
     * @throws IllegalArgumentException when {@code limit} is not between 1 and {@value #MAX_LIMIT}, or
     *                                  {@code after} is negative
     */
    public List<AdminEvent> page(long after, int limit) throws SQLException {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " is out of range (1 to " + MAX_LIMIT + ")");
        }
        if (after < 0) {
            throw new IllegalArgumentException("after: " + after + " is negative (0 means from the start)");
        }
        List<AdminEvent> page = new ArrayList<>(Math.min(limit, 1_000));
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(SELECT_AFTER_SQL)) {
            select.setLong(1, after);
            select.setInt(2, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    page.add(read(rs));
                }
            }
        }
        return page;
    }

    private static AdminEvent read(ResultSet rs) throws SQLException {
        return new AdminEvent(
                rs.getLong("id"),
                rs.getObject("ts", OffsetDateTime.class).toInstant(),
                rs.getString("node"),
                rs.getString("role"),
                rs.getString("client_addr"),
                rs.getString("action"),
                rs.getString("listener"),
                rs.getString("result"),
                rs.getInt("status"),
                rs.getString("detail"));
    }
}
