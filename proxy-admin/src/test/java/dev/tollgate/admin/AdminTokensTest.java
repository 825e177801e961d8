package dev.tollgate.admin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AdminTokensTest {

    @TempDir
    Path dir;

    @Test
    void theAdminTokenIsTheOwnersAloneAndTheAuditorsIsGroupReadable() throws Exception {
        AdminTokens tokens = AdminTokens.loadOrCreate(dir);

        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(dir.resolve(AdminTokens.ADMIN_FILE)));
        assertEquals(PosixFilePermissions.fromString("rw-r-----"),
                Files.getPosixFilePermissions(dir.resolve(AdminTokens.AUDITOR_FILE)));
        assertEquals(Optional.of(Role.ADMIN), tokens.roleOf(read(AdminTokens.ADMIN_FILE)));
        assertEquals(Optional.of(Role.AUDITOR), tokens.roleOf(read(AdminTokens.AUDITOR_FILE)));
        assertEquals(Optional.empty(), tokens.roleOf(read(AdminTokens.ADMIN_FILE) + "x"));
    }

    @Test
    void existingTokensKeepTheirValueAndMode() throws Exception {
        AdminTokens.loadOrCreate(dir);
        String admin = read(AdminTokens.ADMIN_FILE);
        Files.setPosixFilePermissions(dir.resolve(AdminTokens.AUDITOR_FILE), PosixFilePermissions.fromString("rw-------"));

        AdminTokens again = AdminTokens.loadOrCreate(dir);

        assertEquals(admin, read(AdminTokens.ADMIN_FILE));
        assertEquals(Optional.of(Role.ADMIN), again.roleOf(admin));
        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(dir.resolve(AdminTokens.AUDITOR_FILE)));
    }

    private String read(String file) throws Exception {
        return Files.readString(dir.resolve(file)).trim();
    }
}
