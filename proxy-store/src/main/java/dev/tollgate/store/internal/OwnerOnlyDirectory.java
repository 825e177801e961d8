package dev.tollgate.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A directory the daemon makes for itself when it is missing (the state directory, an H2 database's directory):
 * owner-only, because what goes in it holds every row or a secret. One that exists is left exactly as it is: the
 * packages make /var/lib/tollgate 0750 tollgate:tollgate so that members of group tollgate can read the tokens and
 * the SQL password, and an operator may have chosen otherwise.
 */
public final class OwnerOnlyDirectory {

    private OwnerOnlyDirectory() {
    }

    /** Makes {@code dir} and its missing parents 0700, unless it is a directory already. */
    public static void createIfMissing(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }
}
