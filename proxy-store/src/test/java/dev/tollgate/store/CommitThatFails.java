package dev.tollgate.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * A real database's connections, one of whose commits takes effect and then reports a failure: what a
 * PostgreSQL client sees when the connection drops before the answer to its COMMIT arrives, and what an H2
 * commit that fails after its write would look like. Everything else goes to the real connection.
 */
final class CommitThatFails implements DataSource {

    private final DataSource real;
    private final AtomicBoolean failNext = new AtomicBoolean();

    CommitThatFails(DataSource real) {
        this.real = real;
    }

    /** The next commit on any connection from here takes effect, then throws. */
    void failNextCommitAfterItTookEffect() {
        failNext.set(true);
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection connection = real.getConnection();
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    try {
                        Object result = method.invoke(connection, args);
                        if (method.getName().equals("commit") && failNext.compareAndSet(true, false)) {
                            connection.close();
                            throw new SQLException("connection lost while committing (injected)", "08006");
                        }
                        return result;
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        throw new SQLException("not used");
    }

    @Override
    public java.io.PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(java.io.PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public java.util.logging.Logger getParentLogger() {
        return java.util.logging.Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return false;
    }
}
