package dev.tollgate.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The directories the daemon makes for itself when they are missing (the state directory, an H2 database's, the
 * backups', a file sink's), each with the mode its contents call for. One that exists is left exactly as it is: the
 * packages make /var/lib/tollgate 0750 tollgate:tollgate so that members of group tollgate can read the tokens and
 * the SQL password, and an operator may have chosen otherwise.
 */
public final class Directories {

    /** For what holds every row or a secret: the daemon's user alone. */
    public static final String OWNER_ONLY = "rwx------";
    /** For what auditors in the daemon's group may read (backups, a file sink's output). */
    public static final String GROUP_READABLE = "rwxr-x---";

    private Directories() {
    }

    /**
     * Makes {@code dir} and its missing parents with {@code mode} (as {@link PosixFilePermissions#fromString}
     * reads it), unless it is a directory already; with the default mode where the file system has no POSIX modes.
     */
    public static void createIfMissing(Path dir, String mode) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }
}
