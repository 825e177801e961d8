package dev.tollgate.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state directory as another local account would use it: one that account may write (a {@code stateDir} under
 * a shared directory made 0777, or 0770 for a group) would let it replace the journal's segments, whose records
 * become rows at the next start, the owner's password, the tokens and the keys. The daemon refuses to start there
 * and writes nothing into it (docs/security.md, "The state directory and its files").
 */
class StateDirectoryAttackIT {

    @TempDir
    Path dir;

    @Test
    void aStateDirectoryOtherAccountsMayWriteStopsTheStartBeforeAnythingIsWrittenThere() throws Exception {
        for (String mode : List.of("rwxrwxrwx", "rwxrwx---")) {
            Path state = Files.createDirectory(dir.resolve("state-" + mode));
            Files.setPosixFilePermissions(state, PosixFilePermissions.fromString(mode));

            IOException refused = assertThrows(IOException.class,
                    () -> RunningTollgate.start(state, RunningTollgate.loopbackListener()).close(), mode);

            assertTrue(refused.getMessage().startsWith("stateDir: " + state + " may be written by other accounts ("
                    + mode + ")"), refused.getMessage());
            assertTrue(refused.getMessage().contains("chmod go-w " + state), refused.getMessage());
            try (Stream<Path> left = Files.list(state)) {
                assertEquals(List.of(), left.toList(), "nothing written into " + mode);
            }
        }
    }

    @Test
    void theSameDirectoryClosedToOthersStarts() throws Exception {
        Path state = Files.createDirectory(dir.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-x---"));

        try (RunningTollgate tollgate = RunningTollgate.start(state, RunningTollgate.loopbackListener())) {
            assertTrue(tollgate.port() > 0);
        }
        assertTrue(Files.exists(state.resolve("access.mv.db")));
    }
}
