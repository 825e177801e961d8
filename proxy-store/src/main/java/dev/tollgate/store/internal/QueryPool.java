package dev.tollgate.store.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * The pool of connections that queries borrow on a database server (PostgreSQL): the admin API's access-log
 * and admin-event reads, the listener table, retention. The access-log writer does not use it: it keeps a
 * connection of its own, so that a burst of queries can never make it wait for one.
 */
public final class QueryPool {

    /** Connections at most: a few admin API calls, retention and the stats at once. */
    public static final int MAX_CONNECTIONS = 4;
    /**
     * How long a query waits for a connection before it fails. Short: while the database is down an admin API
     * call answers with an error in seconds instead of hanging for HikariCP's default 30 s.
     */
    public static final long CONNECTION_TIMEOUT_MS = 5_000;
    /** A connection that has been idle this long is checked before it is lent again: a restarted server. */
    private static final long IDLE_TIMEOUT_MS = 60_000;

    private QueryPool() {
    }

    /** A started pool for {@code url}; {@code name} names its threads and log lines. */
    public static HikariDataSource open(String name, String url, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(MAX_CONNECTIONS);
        config.setMinimumIdle(1);
        config.setIdleTimeout(IDLE_TIMEOUT_MS);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        // The schema was just migrated through another connection: a server that is down now fails here.
        config.setInitializationFailTimeout(CONNECTION_TIMEOUT_MS);
        return new HikariDataSource(config);
    }
}
