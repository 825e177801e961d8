package dev.tollgate.store.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A directory the daemon keeps its state in must be closed to other accounts (docs/security.md). */
class DirectoriesTest {

    @TempDir
    Path dir;

    @Test
    void aDirectoryOthersOrItsGroupMayWriteIsRefusedNamingTheKeyTheDirectoryAndTheFix() throws Exception {
        for (String mode : new String[] {"rwxrwxrwx", "rwxrwx---", "rwx-w----", "rwx---rwx", "rwx----w-"}) {
            Path open = directory("open-" + mode, mode);

            IOException refused = assertThrows(IOException.class,
                    () -> Directories.requireClosedToOthers(open, "stateDir"), mode);

            String message = refused.getMessage();
            assertTrue(message.startsWith("stateDir: " + open + " may be written by other accounts"), message);
            assertTrue(message.contains("(" + mode + ")"), message);
            assertTrue(message.contains("chmod go-w " + open), message);
        }
    }

    @Test
    void ownerOnlyAndGroupReadableDirectoriesPass() throws Exception {
        for (String mode : new String[] {"rwx------", "rwxr-x---", "rwxr-xr-x"}) {
            Path closed = directory("closed-" + mode, mode);
            assertDoesNotThrow(() -> Directories.requireClosedToOthers(closed, "stateDir"), mode);
        }
    }

    @Test
    void aSymbolicLinkIsJudgedByTheDirectoryItPointsTo() throws Exception {
        Path open = Files.createSymbolicLink(dir.resolve("link-to-open"), directory("open", "rwxrwxrwx"));
        Path closed = Files.createSymbolicLink(dir.resolve("link-to-closed"), directory("closed", "rwx------"));

        assertThrows(IOException.class, () -> Directories.requireClosedToOthers(open, "stateDir"));
        assertDoesNotThrow(() -> Directories.requireClosedToOthers(closed, "stateDir"));
    }

    @Test
    void aDirectoryOfAnotherUserIsRefusedUnlessTheDaemonIsRoot() throws Exception {
        Path owned = directory("owned", "rwx------");
        int owner = (Integer) Files.getAttribute(owned, "unix:uid");
        int someoneElse = owner + 1;

        IOException refused = assertThrows(IOException.class,
                () -> Directories.requireClosedToOthers(owned, "store.url", someoneElse));
        assertTrue(refused.getMessage().startsWith("store.url: " + owned + " belongs to uid " + owner),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("not to the daemon's user (uid " + someoneElse + ")"),
                refused.getMessage());

        assertDoesNotThrow(() -> Directories.requireClosedToOthers(owned, "store.url", owner), "its owner");
        assertDoesNotThrow(() -> Directories.requireClosedToOthers(owned, "store.url", 0),
                "root, which hands what it makes to the directory's owner");
        assertDoesNotThrow(() -> Directories.requireClosedToOthers(owned, "store.url", -1), "user unknown");
    }

    @Test
    void theUserReadForTheProcessIsTheOwnerOfWhatItMakes() throws Exception {
        Path made = Files.createFile(dir.resolve("made"));
        assertEquals(((Integer) Files.getAttribute(made, "unix:uid")).longValue(), Directories.processUid());
        assertDoesNotThrow(() -> Directories.requireClosedToOthers(dir, "stateDir"));
    }

    private Path directory(String name, String mode) throws IOException {
        Path made = Files.createDirectory(dir.resolve(name));
        Files.setPosixFilePermissions(made, PosixFilePermissions.fromString(mode));
        return made;
    }
}
