package dev.tollgate.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The admin API's two bearer tokens, {@code admin.token} and {@code auditor.token} in the state directory:
 * made on first start (256 random bits, base64url), read on every later start. {@code admin.token} is mode
 * 0600, readable by the daemon's user alone; {@code auditor.token} is 0640, so that the daemon's group can
 * audit without becoming admin. An existing file keeps its mode. Tokens are compared in constant time.
 */
public final class AdminTokens {

    public static final String ADMIN_FILE = "admin.token";
    public static final String AUDITOR_FILE = "auditor.token";
    private static final int TOKEN_BYTES = 32;

    private final byte[] admin;
    private final byte[] auditor;

    private AdminTokens(String admin, String auditor) {
        this.admin = admin.getBytes(StandardCharsets.US_ASCII);
        this.auditor = auditor.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads both tokens from {@code stateDir}, making any that is missing. */
    public static AdminTokens loadOrCreate(Path stateDir) throws IOException {
        return new AdminTokens(readOrMake(stateDir.resolve(ADMIN_FILE), "rw-------"),
                readOrMake(stateDir.resolve(AUDITOR_FILE), "rw-r-----"));
    }

    /** The role whose token this is, or empty for any other value. */
    public Optional<Role> roleOf(String presented) {
        byte[] bytes = presented.getBytes(StandardCharsets.US_ASCII);
        // Both comparisons always run, so the time taken does not tell which token came close.
        boolean isAdmin = MessageDigest.isEqual(bytes, admin);
        boolean isAuditor = MessageDigest.isEqual(bytes, auditor);
        if (isAdmin) {
            return Optional.of(Role.ADMIN);
        }
        return isAuditor ? Optional.of(Role.AUDITOR) : Optional.empty();
    }

    private static String readOrMake(Path file, String mode) throws IOException {
        if (!Files.exists(file)) {
            byte[] random = new byte[TOKEN_BYTES];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
                Files.writeString(file, token + "\n", StandardOpenOption.TRUNCATE_EXISTING);
                return token;
            } catch (FileAlreadyExistsException raced) {
                // Another start made it first: read theirs.
            }
        }
        String token = Files.readString(file, StandardCharsets.US_ASCII).trim();
        if (token.length() < 32) {
            throw new IOException(file + ": holds no usable token (delete it to have a new one made)");
        }
        return token;
    }
}
