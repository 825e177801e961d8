package dev.tollgate.store.internal;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A new connection from {@link DriverManager} on every call, with no pool. The store needs few connections
 * (the writer holds one for its lifetime; Flyway and the reader borrow one briefly), and the same class
 * serves H2 and PostgreSQL alike.
 */
public final class DriverManagerDataSource implements DataSource {

    private final String url;
    private final String user;
    private final String password;
    private volatile PrintWriter logWriter;
    private volatile int loginTimeoutSeconds;

    public DriverManagerDataSource(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /** The JDBC URL, as given (with any settings the store added). */
    public String url() {
        return url;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return DriverManager.getConnection(url, username, password);
    }

    // The log writer and login timeout are kept and reported, as the interface asks, but not applied:
    // DriverManager's are JVM-wide, and drivers read their own timeouts from the URL.

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("no java.util.logging; the store logs through SLF4J");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        return "DriverManagerDataSource[" + DatabaseUrl.masked(url) + "]";
    }
}
