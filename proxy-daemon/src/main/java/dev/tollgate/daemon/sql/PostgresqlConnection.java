package dev.tollgate.daemon.sql;

import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.store.StoreConfig;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The connection {@code tollgate sql} opens when the store is PostgreSQL: straight to the database in
 * {@code store.url}, as {@code store.user} with the password from {@code store.password} or
 * {@code store.passwordFile} (so it must run as a user who may read that file), with the session set
 * read-only. Read-only is a guard against a slip, not a boundary: that user may write, and could turn it off.
 * Auditors who should not see the node's credentials get a role of their own with SELECT only and use psql
 * (docs/fleet.md, "Querying across nodes").
 */
final class PostgresqlConnection {

    private PostgresqlConnection() {
    }

    static Connection open(TollgateConfig config) {
        StoreConfig store = config.store();
        String where = store.maskedUrl();
        String password;
        try {
            password = store.readPassword();
        } catch (IllegalArgumentException e) {
            throw new SqlCommandException("store." + e.getMessage(), e);
        }
        Connection c = null;
        try {
            c = DriverManager.getConnection(store.url(), store.user(), password);
            try (Statement s = c.createStatement()) {
                s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            }
            return c;
        } catch (SQLException e) {
            closeQuietly(c);
            throw new SqlCommandException("cannot connect to " + where + " as " + store.user() + ": "
                    + QueryErrors.oneLine(e), e);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // Already failing with the reason that matters.
        }
    }
}
