package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint key pair in the state directory. */
class CheckpointKeyTest {

    @TempDir
    Path dir;

    @Test
    void thePrivateKeyIsOwnerOnlyAndThePublicKeyWorldReadable() throws Exception {
        CheckpointKey.loadOrCreate(dir);

        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(CheckpointKey.PRIVATE_FILE))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(CheckpointKey.PUBLIC_FILE))));
    }

    @Test
    void theSameKeyIsReadBackAndThePublicFileVerifiesItsSignatures() throws Exception {
        CheckpointKey made = CheckpointKey.loadOrCreate(dir);
        CheckpointKey again = CheckpointKey.loadOrCreate(dir);
        byte[] bytes = "head".getBytes(StandardCharsets.US_ASCII);

        assertArrayEquals(made.publicKey().getEncoded(), again.publicKey().getEncoded());
        byte[] signature = again.sign(bytes);
        assertTrue(CheckpointKey.verify(CheckpointKey.readPublic(dir.resolve(CheckpointKey.PUBLIC_FILE)), bytes,
                signature));
        assertFalse(CheckpointKey.verify(made.publicKey(), "tail".getBytes(StandardCharsets.US_ASCII), signature));
    }

    @Test
    void aMissingPublicFileIsWrittenAgainFromThePrivateOne() throws Exception {
        CheckpointKey made = CheckpointKey.loadOrCreate(dir);
        Files.delete(dir.resolve(CheckpointKey.PUBLIC_FILE));

        CheckpointKey.loadOrCreate(dir);

        assertArrayEquals(made.publicKey().getEncoded(),
                CheckpointKey.readPublic(dir.resolve(CheckpointKey.PUBLIC_FILE)).getEncoded());
    }
}
