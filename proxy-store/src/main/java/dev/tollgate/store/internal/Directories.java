package dev.tollgate.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The directories the daemon makes for itself when they are missing (the state directory, an H2 database's, the
 * backups', a file sink's), each with the mode its contents call for. One that exists is left exactly as it is: the
 * packages make /var/lib/tollgate 0750 tollgate:tollgate so that members of group tollgate can read the tokens and
 * the SQL password, and an operator may have chosen otherwise, short of opening it to other accounts
 * ({@link #requireClosedToOthers}).
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

    /**
     * Refuses {@code dir} when another account could change what is in it: when its group or others may write it,
     * or, unless the daemon runs as root, when it belongs to another user. Whoever may write a directory may
     * replace the files in it: the journal's segments, whose records become rows at the next start, the owner's
     * password, the tokens, the keys. Root is let through a directory owned by another user, because what root
     * makes there is handed to that owner (the packaged {@code /var/lib/tollgate}, owned by user tollgate, read by
     * an operator's {@code tollgate} commands). The directory's parents are not checked. Where the file system has no
     * POSIX modes nothing is checked.
     *
     * @param key the configuration key that named the directory, for the message
     */
    public static void requireClosedToOthers(Path dir, String key) throws IOException {
        requireClosedToOthers(dir, key, processUid());
    }

    /** As {@link #requireClosedToOthers(Path, String)} for a process whose user is {@code processUid} (-1: unknown). */
    static void requireClosedToOthers(Path dir, String key, long processUid) throws IOException {
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(dir, PosixFileAttributes.class);
        } catch (UnsupportedOperationException e) {
            return;
        }
        Set<PosixFilePermission> mode = attributes.permissions();
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(key + ": " + dir + " may be written by other accounts (" + PosixFilePermissions
                    .toString(mode) + "), and any of them could replace the audit journal, the owner's password, the"
                    + " tokens or the keys the daemon keeps there: take their write access away (chmod go-w " + dir
                    + ") or choose another directory");
        }
        if (processUid > 0 && Files.getAttribute(dir, "unix:uid") instanceof Integer owner && owner != processUid) {
            throw new IOException(key + ": " + dir + " belongs to uid " + owner + " (" + attributes.owner().getName()
                    + "), not to the daemon's user (uid " + processUid + "), and its owner could replace what the"
                    + " daemon keeps there: make it the daemon user's (chown) or choose another directory");
        }
    }

    /** The process's user (the owner of {@code /proc/self}), or -1 where there is no such file. */
    static long processUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }
}
