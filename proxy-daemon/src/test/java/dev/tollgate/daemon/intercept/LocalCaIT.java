package dev.tollgate.daemon.intercept;

import dev.tollgate.daemon.tls.LeafCertificates;
import dev.tollgate.daemon.tls.LocalCa;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The interception CA on disk, made by real {@code tollgate ca export} processes where it matters. */
class LocalCaIT {

    @TempDir
    Path dir;

    @Test
    void theCaIsMadeOnFirstUseWithItsKeyReadableByItsOwnerOnlyAndThenReused() throws Exception {
        LocalCa first = LocalCa.loadOrCreate(dir);
        Path ca = dir.resolve("ca");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca.key"))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca.pem"))));
        X509Certificate certificate = first.certificate();
        assertEquals(0, certificate.getBasicConstraints(), "a CA that signs leaves only");
        assertTrue(certificate.getPublicKey() instanceof ECPublicKey);
        assertEquals(first.certificate(), LocalCa.loadOrCreate(dir).certificate(), "read back, not made again");
        assertNotEquals(first.certificate(), LocalCa.loadOrCreate(dir.resolve("other")).certificate(),
                "unique per installation");
    }

    @Test
    void madeByRootInAnotherUsersStateDirectoryTheCaFilesBelongToThatUser() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to give files away");
        Path state = Files.createDirectory(dir.resolve("state"));
        UserPrincipal nobody = state.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.setOwner(state, nobody);
        LocalCa.loadOrCreate(state);
        for (String file : List.of("ca", "ca/ca.pem", "ca/ca.key", "ca/.lock")) {
            assertEquals(nobody, Files.getOwner(state.resolve(file)), file);
        }
    }

    @Test
    void twoExportsStartedAtOnceAgreeOnOneCa() throws Exception {
        Path config = Files.writeString(dir.resolve("tollgate.json"), "{\"stateDir\": \"" + dir.resolve("state")
                + "\"}");
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            processes.add(new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-cp", System.getProperty("java.class.path"), "dev.tollgate.daemon.cli.Main", "ca",
                    "export", "--config", config.toString())).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start());
        }
        List<String> exported = new ArrayList<>();
        for (Process process : processes) {
            exported.add(new String(process.getInputStream().readAllBytes()));
            assertTrue(process.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, process.exitValue());
        }
        assertTrue(exported.get(0).startsWith("-----BEGIN CERTIFICATE-----"), exported.get(0));
        assertEquals(exported.get(0), exported.get(1));
        assertEquals(exported.get(0), Files.readString(dir.resolve("state").resolve("ca").resolve("ca.pem")));
    }

    /** A clock a test sets. */
    private static final class MovableClock extends Clock {
        volatile Instant now = Instant.now();

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aLeafIsMintedOncePerNameAndRenewedOnlyNearItsEnd() {
        LeafCertificates leaves = new LeafCertificates(LocalCa.loadOrCreate(dir), 2, Clock.systemUTC());
        X509Certificate[] chain = leaves.chainFor("Example.COM");
        assertSame(chain, leaves.chainFor("example.com"));
        assertEquals(1, leaves.minted());
        leaves.chainFor("b.example");
        leaves.chainFor("c.example");
        assertEquals(3, leaves.minted());
        assertNotSame(chain, leaves.chainFor("example.com"), "the least recently used name was forgotten");
        assertEquals(4, leaves.minted());

        MovableClock clock = new MovableClock();
        LeafCertificates renewing = new LeafCertificates(LocalCa.loadOrCreate(dir), 10, clock);
        X509Certificate[] first = renewing.chainFor("example.com");
        clock.now = first[0].getNotAfter().toInstant().minus(Duration.ofHours(25));
        assertSame(first, renewing.chainFor("example.com"), "a day and an hour before its end it is reused");
        clock.now = first[0].getNotAfter().toInstant().minus(Duration.ofHours(23));
        assertNotSame(first, renewing.chainFor("example.com"), "within a day of its end it is replaced");
        assertEquals(2, renewing.minted());
    }
}
