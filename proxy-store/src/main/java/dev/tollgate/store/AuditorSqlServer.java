package dev.tollgate.store;

import dev.tollgate.store.internal.AuditorAccount;
import dev.tollgate.store.internal.AuditorSqlGate;
import dev.tollgate.store.internal.DatabaseUrl;
import org.h2.api.ErrorCode;
import org.h2.engine.SysProperties;
import org.h2.tools.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Read-only SQL on the live access log for {@code tollgate sql}: the daemon's own open database, served to the user
 * {@value AuditorAccount#USER} alone, whose only rights are SELECT on the audit tables.
 * <ul>
 * <li>The port auditors use is an {@link AuditorSqlGate}: it passes on a session as {@value AuditorAccount#USER}
 *     for this database and refuses every other account, the owner's included, whatever its password (H2's own
 *     server cannot refuse an account).</li>
 * <li>H2's TCP server behind it listens on a free port of its own and opens the database only for a random key
 *     (H2's {@code -key}) made at each start and known to the gate alone; any other name is a wrong password.
 *     {@code -ifExists}: no database can be created through it; {@code -baseDir}: none outside the database's
 *     directory; no {@code -tcpAllowOthers}: H2 also refuses remote peers.</li>
 * <li>127.0.0.1 only: the gate binds there; H2 2.5 has no server option for the bind address, its sockets bind to
 *     the system property {@code h2.bindAddress}, read once when H2 first loads. {@link #configureH2()} sets it
 *     and {@link #start} refuses to listen when it did not take.</li>
 * </ul>
 * The password is in {@value #PASSWORD_FILE} and the port actually bound in {@value #PORT_FILE}, both in the
 * state directory, for {@code tollgate sql} to read. H2 lets any user change its own password, so an auditor could
 * lock the others out; before the gate passes on a session, and every {@value #PASSWORD_CHECK_MS} ms, the server
 * logs in as the auditor from inside the daemon and, when the password no longer works, sets it back and says so
 * at WARN: the next login finds the shared password again. docs/security.md has the whole
 * model.
 */
public final class AuditorSqlServer implements AutoCloseable {

    public static final String PASSWORD_FILE = "sql.password";
    public static final String PORT_FILE = "sql.port";
    public static final String USER = AuditorAccount.USER;
    public static final String BIND_ADDRESS = "127.0.0.1";

    /** How often the auditor's password is checked, and set back when a session changed it. */
    static final long PASSWORD_CHECK_MS = 2_000;

    private static final Logger LOG = LoggerFactory.getLogger(AuditorSqlServer.class);
    private static final String BIND_ADDRESS_PROPERTY = "h2.bindAddress";
    private static final String ALLOWED_CLASSES_PROPERTY = "h2.allowedClasses";
    /**
     * No class may be loaded by name from SQL but the one H2's TCP server needs for its own management database:
     * no trigger, aggregate, {@code CREATE ALIAS ... FOR "class.method"}, linked table driver or deserialized Java
     * object (H2's default is every class). Tollgate uses none of them.
     */
    static final String ALLOWED_CLASSES = "org.h2.server.TcpServer";
    private static final AuditorSqlServer NONE = new AuditorSqlServer(null, null, null, null);

    private final AuditorSqlGate gate;
    private final Server tcp;
    private final Path portFile;
    private final ScheduledExecutorService passwordCheck;
    private boolean closed;

    private AuditorSqlServer(AuditorSqlGate gate, Server tcp, Path portFile, ScheduledExecutorService passwordCheck) {
        this.gate = gate;
        this.tcp = tcp;
        this.portFile = portFile;
        this.passwordCheck = passwordCheck;
    }

    /**
     * Pins every H2 server socket in this JVM to 127.0.0.1 and lets no SQL load a Java class by name
     * ({@value #ALLOWED_CLASSES_PROPERTY}). Call it before anything loads H2 (before {@link AccessLog#open}): H2
     * reads both properties once.
     */
    public static void configureH2() {
        System.setProperty(BIND_ADDRESS_PROPERTY, BIND_ADDRESS);
        System.setProperty(ALLOWED_CLASSES_PROPERTY, ALLOWED_CLASSES);
    }

    /**
     * Starts the server when {@code config} is an H2 file and {@code sqlPort} is not -1; otherwise returns an
     * object that serves nothing. Creates or updates the auditor user and its password file first.
     *
     * @throws IllegalStateException when the port is in use, or H2 would not bind to 127.0.0.1 alone
     */
    public static AuditorSqlServer start(AccessLog accessLog, StoreConfig config, Path stateDir)
            throws SQLException, IOException {
        if (config.sqlPort() == StoreConfig.NO_SQL_PORT || !serves(config.url())) {
            LOG.debug("sql - no SQL server (store.sqlPort is {}, store.url {})", config.sqlPort(),
                    DatabaseUrl.masked(config.url()));
            return NONE;
        }
        if (!ALLOWED_CLASSES.equals(SysProperties.ALLOWED_CLASSES)) {
            throw new IllegalStateException("store.sqlPort: H2 was loaded before " + ALLOWED_CLASSES_PROPERTY
                    + " was set, so SQL sessions could load Java classes; not starting the SQL server (-1 turns"
                    + " it off)");
        }
        if (!BIND_ADDRESS.equals(SysProperties.BIND_ADDRESS)) {
            throw new IllegalStateException("store.sqlPort: H2 was loaded before " + BIND_ADDRESS_PROPERTY
                    + " was set to " + BIND_ADDRESS + " (it is " + SysProperties.BIND_ADDRESS + "), so its"
                    + " server would not listen on 127.0.0.1 alone; not starting it (-1 turns it off)");
        }
        String password = AuditorAccount.loadOrCreatePassword(stateDir.resolve(PASSWORD_FILE));
        try (Connection admin = accessLog.dataSource().getConnection()) {
            AuditorAccount.apply(admin, password);
        }
        Path database = DatabaseUrl.h2FilePath(config.url());
        String key = AuditorSqlGate.newKey();
        Server tcp = Server.createTcpServer("-tcpPort", "0", "-ifExists", "-baseDir", database.getParent().toString(),
                "-key", key, database.toString(), "-tcpDaemon").start();
        String inProcessUrl = DatabaseUrl.withAuditSettings(config.url()) + ";IFEXISTS=TRUE";
        Runnable keepPassword = () -> keepPassword(accessLog, inProcessUrl, password);
        AuditorSqlGate gate;
        try {
            gate = AuditorSqlGate.start(InetAddress.getByName(BIND_ADDRESS), config.sqlPort(), database.toString(),
                    tcp.getPort(), key, keepPassword);
        } catch (IOException e) {
            tcp.stop();
            throw new IllegalStateException("store.sqlPort: cannot listen on " + BIND_ADDRESS + ":"
                    + config.sqlPort() + " (" + e.getMessage() + "); choose another port, 0 for any free one,"
                    + " or -1 for no SQL server", e);
        }
        Path portFile = stateDir.resolve(PORT_FILE);
        try {
            Files.writeString(portFile, gate.port() + "\n");
        } catch (IOException e) {
            gate.close();
            tcp.stop();
            throw e;
        }
        ScheduledExecutorService passwordCheck = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tollgate-sql-auditor-check");
            thread.setDaemon(true);
            return thread;
        });
        passwordCheck.scheduleWithFixedDelay(keepPassword, PASSWORD_CHECK_MS, PASSWORD_CHECK_MS, TimeUnit.MILLISECONDS);
        LOG.info("sql - read-only SQL for auditors on {}:{}", BIND_ADDRESS, gate.port());
        return new AuditorSqlServer(gate, tcp, portFile, passwordCheck);
    }

    /**
     * Logs in as the auditor inside this process; when the password no longer works (a session ran
     * {@code ALTER USER AUDITOR SET PASSWORD}, which H2 lets any user do to itself), sets it back and applies the
     * grants again.
     */
    private static synchronized void keepPassword(AccessLog accessLog, String inProcessUrl, String password) {
        try (Connection ignored = DriverManager.getConnection(inProcessUrl, USER, password)) {
            return;
        } catch (SQLException e) {
            if (e.getErrorCode() != ErrorCode.WRONG_USER_OR_PASSWORD) {
                LOG.debug("sql - checking the auditor's password failed", e);
                return;
            }
        }
        try (Connection admin = accessLog.dataSource().getConnection()) {
            AuditorAccount.apply(admin, password);
            LOG.warn("sql - the {} password had been changed by an SQL session; it is the one in {} again",
                    USER, PASSWORD_FILE);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("sql - setting the {} password back failed: {}", USER, e.getMessage());
        }
    }

    /** The port the server listens on, or -1 when there is none. */
    public int port() {
        return gate == null ? -1 : gate.port();
    }

    /** The tables an auditor may read. */
    public static List<String> auditTables() {
        return AuditorAccount.TABLES;
    }

    /** Whether {@link #start} serves a store at {@code storeUrl}: an H2 file, not a server's or memory. */
    public static boolean serves(String storeUrl) {
        return storeUrl != null && DatabaseUrl.isH2File(storeUrl);
    }

    /**
     * The URL {@code tollgate sql} connects to for the H2 file that {@code storeUrl} names, served on
     * {@code port}, e.g. {@code jdbc:h2:tcp://127.0.0.1:9092//var/lib/tollgate/access}.
     */
    public static String clientUrl(String storeUrl, int port) {
        return "jdbc:h2:tcp://" + BIND_ADDRESS + ":" + port + "/" + DatabaseUrl.h2FilePath(storeUrl);
    }

    /**
     * Stops the server, which closes every auditor's session, and removes the port file. Call it before the
     * access log closes: an open session would keep the database open. Calling it again does nothing.
     */
    @Override
    public synchronized void close() {
        if (tcp == null || closed) {
            return;
        }
        closed = true;
        passwordCheck.shutdownNow();
        gate.close();
        tcp.stop();
        try {
            Files.deleteIfExists(portFile);
        } catch (IOException e) {
            LOG.warn("sql - removing {} failed", portFile, e);
        }
        LOG.info("sql - stopped");
    }
}
