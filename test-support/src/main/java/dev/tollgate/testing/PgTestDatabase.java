package dev.tollgate.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A PostgreSQL database of a test's own, created on the server that {@value #URL_VARIABLE} points to and
 * dropped by {@link #close()}, so that tests never see each other's rows. Where the variable is not set (a
 * plain {@code mvn -B verify} on a machine without PostgreSQL) the test is skipped, saying why; {@code .ci/run}
 * always sets it. Shared by every module's tests (it knows no Tollgate type: a module turns {@link #url()},
 * {@link #user()} and {@link #password()} into its own config).
 */
public final class PgTestDatabase implements AutoCloseable {

    public static final String URL_VARIABLE = "TOLLGATE_TEST_PG_URL";
    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/]+/)([^?]*)(\\?.*)?");
    private static final Pattern PARAMETER = Pattern.compile("[?&](user|password)=([^&]*)");
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private final String serverUrl;
    private final String name;

    private PgTestDatabase(String serverUrl, String name) {
        this.serverUrl = serverUrl;
        this.name = name;
    }

    /** Creates a fresh, empty database; skips the calling test when {@value #URL_VARIABLE} is not set. */
    public static PgTestDatabase create() throws SQLException {
        String serverUrl = System.getenv(URL_VARIABLE);
        assumeTrue(serverUrl != null && !serverUrl.isBlank(), URL_VARIABLE + " is not set: skipping this PostgreSQL"
                + " test (.ci/run sets it; see docs/fleet.md, \"Tests\")");
        String name = "tollgate_test_" + ProcessHandle.current().pid() + "_" + NEXT.incrementAndGet();
        try (Connection c = DriverManager.getConnection(serverUrl); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + name);
        }
        return new PgTestDatabase(serverUrl, name);
    }

    /** The JDBC URL of this database, with the user and password of {@value #URL_VARIABLE}. */
    public String url() {
        Matcher m = URL.matcher(serverUrl);
        if (!m.matches()) {
            throw new IllegalStateException(URL_VARIABLE + " is not a jdbc:postgresql://host:port/database URL: "
                    + serverUrl.replaceAll("password=[^&]*", "password=***"));
        }
        return m.group(1) + name + (m.group(3) == null ? "" : m.group(3));
    }

    /** The user named in {@value #URL_VARIABLE}. */
    public String user() {
        return parameter("user");
    }

    /** The password named in {@value #URL_VARIABLE}. */
    public String password() {
        return parameter("password");
    }

    /** The JSON of a tollgate.json store object's keys that point a daemon at this database (no braces). */
    public String storeKeys() {
        return "\"url\": \"" + url() + "\", \"user\": \"" + user() + "\", \"password\": \"" + password() + "\"";
    }

    /** A new connection to this database. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url());
    }

    /**
     * Drops the database, ending any session still on it. A session the test's role may not end, an autovacuum
     * worker busy on the database (PostgreSQL 15 refuses with SQLSTATE 42501, "must be a member of the role whose
     * process is being terminated"; seen after a long outage test), is waited out: the drop is tried again until
     * {@link Poll#DEADLINE}.
     */
    @Override
    public void close() throws SQLException {
        try {
            Poll.until("DROP DATABASE " + name + " (a session on it the test's role cannot end)", () -> {
                try (Connection c = DriverManager.getConnection(serverUrl); Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                    return true;
                } catch (SQLException e) {
                    if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                        return false;
                    }
                    throw e;
                }
            });
        } catch (SQLException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new SQLException("dropping " + name + " was interrupted", e);
        }
    }

    private String parameter(String key) {
        Matcher m = PARAMETER.matcher(serverUrl);
        while (m.find()) {
            if (m.group(1).equals(key)) {
                return m.group(2);
            }
        }
        return null;
    }
}
