package dev.tollgate.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The H2 user that {@code tollgate sql} connects as, and its password file. Applied at every start, so that
 * the file and the grants below are the truth whatever was changed in between: the password is set again,
 * admin rights are taken away, every other right and role is revoked, and SELECT on the audit tables is
 * granted.
 */
public final class AuditorAccount {

    /** H2 upper-cases unquoted user names; {@code auditor} in a URL is the same user. */
    public static final String USER = "AUDITOR";
    /** The tables an auditor may read, and nothing else. A new table is not readable until it is added here. */
    public static final List<String> TABLES = List.of("access_log", "admin_event", "listener", "chain_checkpoint",
            "access_summary_minute", "access_summary_hour", "access_summary_key_hour", "access_summary_key_day",
            "access_summary_key_day_mark");

    private static final int PASSWORD_BYTES = 24;
    private static final int MIN_PASSWORD_LENGTH = 16;
    /** Readable by the daemon's group, so that an auditors' group can run {@code tollgate sql}. */
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r-----");

    private AuditorAccount() {
    }

    /**
     * The password in {@code file}, made (random, mode 0640) when the file does not exist yet. A file that
     * others may read is narrowed to 0640.
     */
    public static String loadOrCreatePassword(Path file) throws IOException {
        if (Files.exists(file)) {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.contains(PosixFilePermission.OTHERS_READ) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
                Files.setPosixFilePermissions(file, FILE_MODE);
            }
        }
        return SecretFile.loadOrCreate(file, FILE_MODE, PASSWORD_BYTES, MIN_PASSWORD_LENGTH, "password",
                "; delete the file to have a new one made");
    }

    /**
     * Creates the auditor user if it is missing and brings it to exactly: this password, no admin rights,
     * SELECT on {@link #TABLES}. {@code admin} must be an admin connection to the database.
     */
    public static void apply(Connection admin, String password) throws SQLException {
        String literal = "'" + password.replace("'", "''") + "'";
        try (Statement sql = admin.createStatement()) {
            sql.execute("CREATE USER IF NOT EXISTS " + USER + " PASSWORD " + literal);
            sql.execute("ALTER USER " + USER + " SET PASSWORD " + literal);
            sql.execute("ALTER USER " + USER + " ADMIN FALSE");
            for (String revoke : revokesOfEverythingGranted(sql)) {
                sql.execute(revoke);
            }
            sql.execute("GRANT SELECT ON " + String.join(", ", TABLES) + " TO " + USER);
        }
    }

    /** One REVOKE for each role and each table or schema right the auditor holds now. */
    private static List<String> revokesOfEverythingGranted(Statement sql) throws SQLException {
        List<String> revokes = new ArrayList<>();
        try (ResultSet rights = sql.executeQuery("SELECT GRANTEDROLE, TABLE_SCHEMA, TABLE_NAME"
                + " FROM INFORMATION_SCHEMA.RIGHTS WHERE GRANTEETYPE = 'USER' AND GRANTEE = '" + USER + "'")) {
            while (rights.next()) {
                String role = rights.getString(1);
                String schema = rights.getString(2);
                String table = rights.getString(3);
                if (role != null) {
                    revokes.add("REVOKE " + quoted(role) + " FROM " + USER);
                } else if (table != null) {
                    revokes.add("REVOKE ALL ON " + quoted(schema) + "." + quoted(table) + " FROM " + USER);
                } else if (schema != null) {
                    revokes.add("REVOKE ALL ON SCHEMA " + quoted(schema) + " FROM " + USER);
                }
            }
        }
        return revokes;
    }

    private static String quoted(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
