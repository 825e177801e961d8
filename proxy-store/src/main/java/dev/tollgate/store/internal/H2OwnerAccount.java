package dev.tollgate.store.internal;

import org.h2.api.ErrorCode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Set;

/**
 * The password of the embedded H2 database's owner (its admin user, {@code store.user}): random, made at the
 * first start, kept in {@value #FILE} beside the database with mode 0600, and known to nobody but the daemon's
 * user and root.
 * <p>
 * Why: the auditors' SQL server serves the database over TCP on 127.0.0.1, and H2 cannot restrict a TCP server
 * to one account. Before issue #19 the owner had the empty password, so any local process could log in as the
 * owner and delete rows or run Java inside the daemon ({@code CREATE ALIAS}). With this password, logging in as
 * the owner takes reading a file that only the daemon's user may read, and that user can already change the
 * database file and run code as the daemon.
 * <p>
 * Upgrade: a database made before this (owner password {@code store.password}, empty by default) gets the new
 * password at its first start. The file is written before the database is changed, so a crash in between
 * leaves a file whose password the next start applies, never a database whose password nobody knows.
 */
public final class H2OwnerAccount {

    /** The file beside the database that holds its owner's password. */
    public static final String FILE = "owner.password";

    private static final int PASSWORD_BYTES = 32;
    private static final int MIN_PASSWORD_LENGTH = 32;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private H2OwnerAccount() {
    }

    /** The owner password file of the H2 file database at {@code url}. */
    public static Path passwordFile(String url) {
        return DatabaseUrl.h2FilePath(url).resolveSibling(FILE);
    }

    /**
     * Makes sure the database at {@code url} (an H2 file URL with its settings) has the owner password of its
     * {@value #FILE}, making the file and applying it when needed, and returns it.
     *
     * @param legacyPassword what the owner's password was before this class existed ({@code store.password})
     * @throws SQLException when neither password opens an existing database
     */
    public static String prepare(String url, String user, String legacyPassword) throws SQLException, IOException {
        Path file = passwordFile(url);
        Path database = DatabaseUrl.h2FilePath(url);
        Path dir = file.toAbsolutePath().getParent();
        createMissingDirectory(dir);
        Directories.requireClosedToOthers(dir, "store.url");
        boolean databaseExists = Files.exists(database.resolveSibling(database.getFileName() + ".mv.db"));
        if (Files.exists(file) && !OWNER_ONLY.containsAll(Files.getPosixFilePermissions(file))) {
            // Widened by hand: narrowed again (the database still needs this very password).
            Files.setPosixFilePermissions(file, OWNER_ONLY);
        }
        String password = SecretFile.loadOrCreate(file, OWNER_ONLY, PASSWORD_BYTES, MIN_PASSWORD_LENGTH,
                "owner password", "");
        if (!databaseExists) {
            return password; // the first connection creates the database with this owner password
        }
        try (Connection ignored = DriverManager.getConnection(url, user, password)) {
            return password;
        } catch (SQLException e) {
            if (e.getErrorCode() != ErrorCode.WRONG_USER_OR_PASSWORD) {
                throw e;
            }
        }
        try (Connection owner = DriverManager.getConnection(url, user, legacyPassword);
             Statement sql = owner.createStatement()) {
            sql.execute("ALTER USER " + quoted(user) + " SET PASSWORD '" + password.replace("'", "''") + "'");
            return password;
        } catch (SQLException e) {
            if (e.getErrorCode() == ErrorCode.WRONG_USER_OR_PASSWORD) {
                throw new SQLException("store: the database " + DatabaseUrl.h2FilePath(url) + " opens neither with"
                        + " the owner password in " + file + " nor with store.password (restore the " + FILE
                        + " that belongs to this database)", e.getSQLState(), e.getErrorCode(), e);
            }
            throw e;
        }
    }

    /**
     * H2 makes a missing directory for a new database, but the password file is written before H2 runs: a
     * {@code store.url} into a directory that does not exist yet gets it here, owner-only like the state directory
     * (the database holds every row, the file its owner's password).
     */
    private static void createMissingDirectory(Path dir) throws IOException {
        try {
            Directories.createIfMissing(dir, Directories.OWNER_ONLY);
        } catch (IOException e) {
            throw new IOException("store.url: the database's directory " + dir + " does not exist and cannot be made ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
    }

    private static String quoted(String user) {
        return "\"" + user.toUpperCase(Locale.ROOT).replace("\"", "\"\"") + "\"";
    }
}
