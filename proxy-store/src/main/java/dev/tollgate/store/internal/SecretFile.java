package dev.tollgate.store.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * A random secret kept in a file of the state directory (the auditors' SQL password, the database owner's): made
 * on first use with its final mode, read back afterwards. Whether a file widened by hand is narrowed again, and
 * how, is the caller's rule.
 */
final class SecretFile {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private SecretFile() {
    }

    /** {@code bytes} random bytes from {@link SecureRandom}, URL-safe Base64 without padding. */
    static String random(int bytes) {
        byte[] random = new byte[bytes];
        new SecureRandom().nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /**
     * The secret in {@code file}: made ({@code randomBytes} random bytes, URL-safe Base64) when the file does not
     * exist, created owner-only and then given exactly {@code mode}, whatever the umask took away at creation.
     * When another start makes it at the same moment, theirs is read.
     *
     * @param what     the secret's name in the message when the file holds fewer than {@code minLength} characters
     * @param remedy   what to do then, appended to that message (may be empty)
     */
    static String loadOrCreate(Path file, Set<PosixFilePermission> mode, int randomBytes, int minLength,
                               String what, String remedy) throws IOException {
        if (!Files.exists(file)) {
            String secret = random(randomBytes);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                Files.writeString(file, secret + "\n", StandardOpenOption.TRUNCATE_EXISTING);
                Files.setPosixFilePermissions(file, mode);
                return secret;
            } catch (FileAlreadyExistsException raced) {
                // Another start made it first: read theirs.
            }
        }
        String secret = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (secret.length() < minLength) {
            throw new IOException(file + ": holds no usable " + what + " (at least " + minLength + " characters"
                    + remedy + ")");
        }
        return secret;
    }
}
