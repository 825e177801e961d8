package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogTable;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Reads the access log back, a page at a time, by id: the paging cursor of the admin API and of tests. Each
 * call borrows a connection of its own, so it sees what the writer has committed, and nothing after.
 */
public final class AccessLogReader {

    public static final int MAX_LIMIT = 10_000;

    private final DataSource dataSource;

    public AccessLogReader(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Up to {@code limit} records with an id greater than {@code afterId}, oldest first, each with its id.
     * Start with {@code afterId} 0 and pass the last id of each page to get the next.
     *
     * @throws IllegalArgumentException when {@code limit} is not between 0 and {@value #MAX_LIMIT}
     */
    public List<AccessRecord> readAfter(long afterId, int limit) throws SQLException {
        if (limit < 0 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " is out of range (0 to " + MAX_LIMIT + ")");
        }
        List<AccessRecord> page = new ArrayList<>(Math.min(limit, 1_000));
        if (limit == 0) {
            return page;
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(AccessLogTable.SELECT_AFTER_SQL)) {
            select.setLong(1, afterId);
            select.setInt(2, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    page.add(AccessLogTable.read(rs));
                }
            }
        }
        return page;
    }
}
