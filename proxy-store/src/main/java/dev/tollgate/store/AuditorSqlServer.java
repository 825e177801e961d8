package dev.tollgate.store;

import dev.tollgate.store.internal.AuditorAccount;
import dev.tollgate.store.internal.DatabaseUrl;
import org.h2.engine.SysProperties;
import org.h2.tools.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Read-only SQL on the live access log for {@code tollgate sql}: an H2 TCP server inside the daemon, on
 * 127.0.0.1 only, serving the daemon's own open database to the user {@value AuditorAccount#USER}, whose
 * only rights are SELECT on the audit tables.
 * <ul>
 * <li>127.0.0.1 only: H2 2.5 has no server option for the bind address; its sockets bind to the system
 *     property {@code h2.bindAddress}, read once when H2 first loads. {@link #bindLoopbackOnly()} sets it
 *     and {@link #start} refuses to listen when it did not take.</li>
 * <li>{@code -ifExists}: no database can be created through it; {@code -baseDir}: none outside the
 *     database's directory can be opened; no {@code -tcpAllowOthers}: H2 also refuses remote peers.</li>
 * </ul>
 * The password is in {@value #PASSWORD_FILE} and the port actually bound in {@value #PORT_FILE}, both in the
 * state directory, for {@code tollgate sql} to read.
 */
public final class AuditorSqlServer implements AutoCloseable {

    public static final String PASSWORD_FILE = "sql.password";
    public static final String PORT_FILE = "sql.port";
    public static final String USER = AuditorAccount.USER;
    public static final String BIND_ADDRESS = "127.0.0.1";

    private static final Logger LOG = LoggerFactory.getLogger(AuditorSqlServer.class);
    private static final String BIND_ADDRESS_PROPERTY = "h2.bindAddress";
    private static final AuditorSqlServer NONE = new AuditorSqlServer(null, null);

    private final Server tcp;
    private final Path portFile;
    private boolean closed;

    private AuditorSqlServer(Server tcp, Path portFile) {
        this.tcp = tcp;
        this.portFile = portFile;
    }

    /**
     * Pins every H2 server socket in this JVM to 127.0.0.1. Call it before anything loads H2 (before
     * {@link AccessLog#open}): H2 reads the property once.
     */
    public static void bindLoopbackOnly() {
        System.setProperty(BIND_ADDRESS_PROPERTY, BIND_ADDRESS);
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
        Server tcp;
        try {
            tcp = Server.createTcpServer("-tcpPort", Integer.toString(config.sqlPort()), "-ifExists",
                    "-baseDir", database.getParent().toString(), "-tcpDaemon").start();
        } catch (SQLException e) {
            throw new IllegalStateException("store.sqlPort: cannot listen on " + BIND_ADDRESS + ":"
                    + config.sqlPort() + " (" + causeOf(e) + "); choose another port, 0 for any free one,"
                    + " or -1 for no SQL server", e);
        }
        Path portFile = stateDir.resolve(PORT_FILE);
        try {
            Files.writeString(portFile, tcp.getPort() + "\n");
        } catch (IOException e) {
            tcp.stop();
            throw e;
        }
        LOG.info("sql - read-only SQL for auditors on {}:{}", BIND_ADDRESS, tcp.getPort());
        return new AuditorSqlServer(tcp, portFile);
    }

    /** The port the server listens on, or -1 when there is none. */
    public int port() {
        return tcp == null ? -1 : tcp.getPort();
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
        tcp.stop();
        try {
            Files.deleteIfExists(portFile);
        } catch (IOException e) {
            LOG.warn("sql - removing {} failed", portFile, e);
        }
        LOG.info("sql - stopped");
    }

    private static String causeOf(SQLException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }
}
