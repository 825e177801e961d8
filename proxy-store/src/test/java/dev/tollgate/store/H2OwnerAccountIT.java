package dev.tollgate.store;

import org.h2.api.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded database's owner has a random password kept in a 0600 file beside it (issue #19: it had the empty
 * password, which any local user could use through the auditors' SQL port). Real H2 files throughout.
 */
class H2OwnerAccountIT {

    /** Made by main at 748b605 (schema V6): owner TOLLGATE with the empty password, three rows. */
    private static final String BEFORE_ISSUE_19 = "/upgrade/access-v6-empty-owner-password.mv.db";

    @TempDir
    Path dir;

    @Test
    void aNewDatabaseGetsARandomOwnerPasswordInA0600FileAndTheEmptyOneNoLongerOpensIt() throws Exception {
        open("").close();

        Path file = dir.resolve(AccessLog.OWNER_PASSWORD_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String password = Files.readString(file).trim();
        assertTrue(password.length() >= 40, "a long random password: " + password.length() + " characters");
        assertWrongPassword("");
        try (Connection owner = connect(password)) {
            assertTrue(owner.isValid(1));
        }
    }

    @Test
    void twoDatabasesGetTwoDifferentPasswords() throws Exception {
        open("").close();
        Path other = Files.createDirectory(dir.resolve("other"));
        AccessLog.open(config(other, "")).close();

        assertNotEquals(Files.readString(dir.resolve(AccessLog.OWNER_PASSWORD_FILE)),
                Files.readString(other.resolve(AccessLog.OWNER_PASSWORD_FILE)));
    }

    @Test
    void aDatabaseMadeBeforeIssue19LosesItsEmptyOwnerPasswordAtItsFirstStartAndKeepsItsRows() throws Exception {
        copyDatabaseMadeBeforeIssue19();
        try (Connection before = connect("")) {
            assertTrue(before.isValid(1), "the fixture opens with the empty password");
        }

        try (AccessLog log = open("")) {
            assertEquals(3, count(log));
        }

        assertWrongPassword("");
        try (Connection owner = connect(Files.readString(dir.resolve(AccessLog.OWNER_PASSWORD_FILE)).trim())) {
            assertTrue(owner.isValid(1));
        }
        try (AccessLog again = open("")) {
            assertEquals(3, count(again), "the second start opens it with the file's password");
        }
    }

    @Test
    void anUpgradeFromAConfiguredOwnerPasswordUsesIt() throws Exception {
        copyDatabaseMadeBeforeIssue19();
        try (Connection owner = connect(""); var sql = owner.createStatement()) {
            sql.execute("ALTER USER TOLLGATE SET PASSWORD 'configured-long-ago'");
        }

        open("configured-long-ago").close();

        assertWrongPassword("configured-long-ago");
    }

    @Test
    void aStartThatDiedBetweenWritingTheFileAndChangingTheDatabaseIsFinishedByTheNext() throws Exception {
        copyDatabaseMadeBeforeIssue19();
        String written = "a-password-written-just-before-the-crash-0123456789";
        Files.writeString(Files.createFile(dir.resolve(AccessLog.OWNER_PASSWORD_FILE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))), written + "\n");

        try (AccessLog log = open("")) {
            assertEquals(3, count(log));
        }

        assertWrongPassword("");
        try (Connection owner = connect(written)) {
            assertTrue(owner.isValid(1));
        }
    }

    @Test
    void aStoreUrlIntoADirectoryThatDoesNotExistYetMakesItOwnerOnly() throws Exception {
        Path missing = dir.resolve("not/yet");

        AccessLog.open(config(missing, "")).close();

        assertTrue(Files.exists(missing.resolve("access.mv.db")), "the database is made there");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                missing.resolve(AccessLog.OWNER_PASSWORD_FILE))));
        for (Path made : new Path[] {missing, missing.getParent()}) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made)),
                    made.toString());
        }
    }

    @Test
    void aStoreUrlIntoADirectoryOtherAccountsMayWriteIsRefusedBeforeAnythingIsWrittenThere() throws Exception {
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));

        SQLException refused = assertThrows(SQLException.class, () -> AccessLog.open(config(open, "")));

        assertTrue(refused.getMessage().contains("store.url: " + open + " may be written by other accounts"),
                refused.getMessage());
        try (var left = Files.list(open)) {
            assertEquals(List.of(), left.toList(), "no password file and no database in it");
        }
    }

    @Test
    void aDirectoryThatCannotBeMadeStopsTheStartNamingStoreUrlAndTheDirectory() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        Path impossible = file.resolve("access");

        SQLException refused = assertThrows(SQLException.class, () -> AccessLog.open(config(impossible, "")));

        assertTrue(refused.getMessage().contains("store.url"), refused.getMessage());
        assertTrue(refused.getMessage().contains(impossible.toString()), refused.getMessage());
    }

    @Test
    void aLostPasswordFileStopsTheStartWithOneMessageNamingTheFile() throws Exception {
        open("").close();
        Path file = dir.resolve(AccessLog.OWNER_PASSWORD_FILE);
        Files.delete(file);

        SQLException refused = assertThrows(SQLException.class, () -> open(""));

        assertTrue(refused.getMessage().contains(file.toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains("store.password"), refused.getMessage());
    }

    @Test
    void aPasswordFileWidenedByHandIsNarrowedAgain() throws Exception {
        open("").close();
        Path file = dir.resolve(AccessLog.OWNER_PASSWORD_FILE);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        open("").close();

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    private AccessLog open(String legacyPassword) throws SQLException {
        return AccessLog.open(config(dir, legacyPassword));
    }

    private static StoreConfig config(Path in, String password) {
        return new StoreConfig("jdbc:h2:file:" + in.resolve("access"), null, password, null, 50, null);
    }

    private Connection connect(String password) throws SQLException {
        return DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("access") + ";IFEXISTS=TRUE", "tollgate",
                password);
    }

    private void assertWrongPassword(String password) {
        SQLException refused = assertThrows(SQLException.class, () -> connect(password).close());
        assertEquals(ErrorCode.WRONG_USER_OR_PASSWORD, refused.getErrorCode(), refused.getMessage());
    }

    private void copyDatabaseMadeBeforeIssue19() throws Exception {
        try (InputStream in = getClass().getResourceAsStream(BEFORE_ISSUE_19)) {
            Files.copy(in, dir.resolve("access.mv.db"));
        }
    }

    private static long count(AccessLog log) throws SQLException {
        try (Connection c = log.dataSource().getConnection(); var sql = c.createStatement();
             ResultSet rows = sql.executeQuery("SELECT COUNT(*) FROM access_log")) {
            rows.next();
            return rows.getLong(1);
        }
    }
}
