package dev.tollgate.daemon.sql;

import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.store.AuditorSqlServer;
import dev.tollgate.store.StoreConfig;
import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.H2OwnerAccount;
import org.h2.api.ErrorCode;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Opens the connection {@code tollgate sql} queries. For PostgreSQL, {@link PostgresqlConnection}. For the
 * embedded H2 file, the auditor's connection to a running daemon's SQL server, found from the same config as
 * {@code tollgate run}: the port from {@code store.sqlPort} (or, when that is 0, from the port file the
 * daemon writes), the password from the state directory. Every way it can fail is a {@link SqlCommandException}
 * with one line a person can act on.
 */
final class AuditorConnection {

    /** H2's client retries a refused connect for up to 2 s; on loopback a refusal means nothing listens. */
    private static final String CONNECT_RETRY_PROPERTY = "h2.socketConnectRetry";

    private AuditorConnection() {
    }

    /**
     * The running daemon's log as the auditor, or PostgreSQL read-only; with an H2 file and no daemon serving it,
     * the file itself as its owner, read-only: what {@code tollgate verify} and {@code tollgate report} read.
     */
    static Connection openOrFile(TollgateConfig config) throws SQLException {
        String url = config.store().url();
        try {
            return open(config);
        } catch (SqlCommandException notServed) {
            if (!DatabaseUrl.isH2File(url)) {
                throw notServed;
            }
            Path passwordFile = H2OwnerAccount.passwordFile(url);
            String password;
            try {
                password = Files.readString(passwordFile, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new SqlCommandException(notServed.getMessage() + "; nor can the file be opened directly: "
                        + "cannot read " + passwordFile + " (" + e + ")", e);
            }
            try {
                Connection c = DriverManager.getConnection(url + ";IFEXISTS=TRUE", config.store().user(), password);
                c.setReadOnly(true);
                return c;
            } catch (SQLException e) {
                throw new SqlCommandException(notServed.getMessage() + "; nor can the file be opened directly: "
                        + QueryErrors.oneLine(e), e);
            }
        }
    }

    static Connection open(TollgateConfig config) {
        // Before H2 loads in this process (it reads the property once), so that "not running" is said at once.
        System.setProperty(CONNECT_RETRY_PROPERTY, "0");
        StoreConfig store = config.store();
        Path stateDir = config.stateDirPath();
        if (store.usesPostgresql()) {
            return PostgresqlConnection.open(config);
        }
        if (!AuditorSqlServer.serves(store.url())) {
            throw new SqlCommandException("tollgate sql reads the daemon's embedded H2 file or a PostgreSQL store,"
                    + " and store.url is another database: query it with that database's own client");
        }
        if (store.sqlPort() == StoreConfig.NO_SQL_PORT) {
            throw new SqlCommandException("store.sqlPort is -1 in this config, so the daemon serves no SQL; set it"
                    + " to a port (the default is " + StoreConfig.DEFAULT_SQL_PORT + ") and restart tollgate");
        }
        int port = store.sqlPort() != 0 ? store.sqlPort() : portFromFile(stateDir);
        String address = AuditorSqlServer.BIND_ADDRESS + ":" + port;
        String password = password(stateDir.resolve(AuditorSqlServer.PASSWORD_FILE), address);
        try {
            return DriverManager.getConnection(AuditorSqlServer.clientUrl(store.url(), port), AuditorSqlServer.USER,
                    password);
        } catch (SQLException e) {
            throw new SqlCommandException(whyNotConnected(e, address, stateDir), e);
        }
    }

    /** The message for a daemon that is not there to answer. */
    static String notRunning(String address) {
        return "no running daemon's SQL server on " + address + " (is tollgate running with this config?)";
    }

    private static int portFromFile(Path stateDir) {
        Path file = stateDir.resolve(AuditorSqlServer.PORT_FILE);
        try {
            return Integer.parseInt(Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (NoSuchFileException e) {
            throw new SqlCommandException("no running daemon's SQL server for " + stateDir + " (store.sqlPort is 0"
                    + " and " + file + " does not exist; is tollgate running with this config?)");
        } catch (IOException | NumberFormatException e) {
            throw new SqlCommandException("cannot read the SQL server's port from " + file + " (" + e + ")", e);
        }
    }

    private static String password(Path file, String address) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            // The daemon writes it before it listens: without it, no daemon has served this state directory.
            throw new SqlCommandException(notRunning(address));
        } catch (AccessDeniedException e) {
            throw new SqlCommandException("cannot read " + file + ": permission denied (it is readable by the"
                    + " daemon's user and group only)", e);
        } catch (IOException e) {
            throw new SqlCommandException("cannot read " + file + " (" + e + ")", e);
        }
    }

    private static String whyNotConnected(SQLException e, String address, Path stateDir) {
        return switch (e.getErrorCode()) {
            case ErrorCode.CONNECTION_BROKEN_1 -> causedBy(e, ConnectException.class) ? notRunning(address)
                    : "the SQL server on " + address + " broke the connection: " + QueryErrors.oneLine(e);
            case ErrorCode.WRONG_USER_OR_PASSWORD -> "the SQL server on " + address + " refused the password in "
                    + stateDir.resolve(AuditorSqlServer.PASSWORD_FILE) + " (is it this config's daemon?)";
            case ErrorCode.REMOTE_DATABASE_NOT_FOUND_1, ErrorCode.DATABASE_NOT_FOUND_WITH_IF_EXISTS_1 ->
                    "the SQL server on " + address + " does not serve this config's database (is it this config's"
                            + " daemon?): " + QueryErrors.oneLine(e);
            default -> "cannot connect to the SQL server on " + address + ": " + QueryErrors.oneLine(e);
        };
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
