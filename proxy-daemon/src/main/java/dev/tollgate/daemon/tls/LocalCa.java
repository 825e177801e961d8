package dev.tollgate.daemon.tls;

import dev.tollgate.store.internal.Directories;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * This installation's certificate authority for TLS interception: an EC P-256 key and a self-signed CA
 * certificate in {@code <stateDir>/ca/} ({@code ca.pem} 0644, {@code ca.key} 0600), made on first use and
 * then reused; it is never shipped in a package. Signs the leaf certificates Tollgate presents to clients.
 */
public final class LocalCa {

    public static final String DIRECTORY = "ca";
    public static final String CERTIFICATE_FILE = "ca.pem";
    public static final String KEY_FILE = "ca.key";
    /** Ten years: a CA is installed on every client, so it should not have to be replaced often. */
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** The longest validity browsers accept for a server certificate (CA/Browser Forum, 397 days). */
    public static final Duration LEAF_VALIDITY = Duration.ofDays(397);
    /** Leaf certificates start an hour in the past, so a client whose clock lags a little accepts them. */
    static final Duration BACKDATE = Duration.ofHours(1);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey key;

    private LocalCa(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /**
     * The CA in {@code <stateDir>/ca/}, made there first if it is missing. An exclusive lock on a file in that
     * directory makes two daemons starting at once agree on one CA; the files appear by atomic rename, so a
     * reader never sees half a key (the method is synchronized too: a file lock is held per process, not per
     * thread). When run as root on a state directory owned by another user (the
     * packaged daemon's), the new files are given to that user, who must be able to read the key.
     */
    public static synchronized LocalCa loadOrCreate(Path stateDir) {
        Path directory = stateDir.resolve(DIRECTORY);
        try {
            // As the daemon makes it: readable by its owner only.
            Directories.createIfMissing(stateDir, Directories.OWNER_ONLY);
            Files.createDirectories(directory);
            giveToOwnerOf(stateDir, directory);
            Path lockPath = directory.resolve(".lock");
            try (FileChannel lockFile = FileChannel.open(lockPath, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
                // A lock file made by root (ca export) must stay writable for the daemon's own user.
                giveToOwnerOf(stateDir, lockPath);
                Path certificateFile = directory.resolve(CERTIFICATE_FILE);
                Path keyFile = directory.resolve(KEY_FILE);
                if (Files.exists(certificateFile) && Files.exists(keyFile)) {
                    return new LocalCa(Pem.readCertificate(certificateFile), Pem.readPrivateKey(keyFile));
                }
                LocalCa created = generate();
                writeAtomically(keyFile, Pem.encode(created.key), "rw-------", stateDir);
                writeAtomically(certificateFile, Pem.encode(created.certificate), "rw-r--r--", stateDir);
                return created;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load or create the interception CA in " + directory + " ("
                    + e.getMessage() + ")", e);
        } catch (GeneralSecurityException e) {
            throw new UncheckedIOException("the interception CA in " + directory + " cannot be read ("
                    + e.getMessage() + ")", new IOException(e));
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** The CA certificate in PEM, as {@code tollgate ca export} prints it. */
    public String certificatePem() {
        try {
            return Pem.encode(certificate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A leaf certificate for {@code name} (a DNS name, or an IP address literal) with {@code publicKey}: the
     * name as its only subject alternative name, for TLS servers only, signed by this CA, valid from an hour
     * ago for {@link #LEAF_VALIDITY} (never beyond the CA's own end).
     */
    public X509Certificate signLeaf(String name, PublicKey publicKey, Instant now) {
        try {
            Instant notBefore = now.minus(BACKDATE);
            Instant notAfter = now.plus(LEAF_VALIDITY);
            if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
                notAfter = certificate.getNotAfter().toInstant();
            }
            GeneralName san = isAddressLiteral(name) ? new GeneralName(GeneralName.iPAddress, name)
                    : new GeneralName(GeneralName.dNSName, name);
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                    .addRDN(BCStyle.CN, name.length() <= 64 ? name : name.substring(0, 64))
                    .addRDN(BCStyle.O, "Tollgate interception").build();
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(notBefore), Date.from(notAfter), subject, publicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(publicKey))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(certificate));
            return sign(builder, key);
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot sign a certificate for " + name + ": " + e.getMessage(), e);
        }
    }

    /** A new EC P-256 key pair, the key type of the CA and of every leaf. */
    public static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
        }
    }

    private static LocalCa generate() throws GeneralSecurityException, IOException {
        KeyPair pair = newKeyPair();
        Instant now = Instant.now();
        // A name unique to this installation, so that two installations' CAs are told apart on a client.
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, "Tollgate interception CA " + hostName() + " " + now.getEpochSecond())
                .addRDN(BCStyle.O, "Tollgate").build();
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic())
                // Path length 0: this CA signs leaf certificates only, never another CA.
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false,
                        extensions.createSubjectKeyIdentifier(pair.getPublic()));
        try {
            return new LocalCa(sign(builder, pair.getPrivate()), pair.getPrivate());
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey)
            throws OperatorCreationException, CertificateException {
        return new JcaX509CertificateConverter().getCertificate(builder.build(
                new JcaContentSignerBuilder(SIGNATURE).build(signingKey)));
    }

    /** A positive random 127-bit serial (RFC 5280 4.1.2.2: unique per CA, at most 20 octets). */
    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    static boolean isAddressLiteral(String name) {
        return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    private static void writeAtomically(Path target, String content, String permissions, Path stateDir)
            throws IOException {
        Path temporary = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temporary, content);
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString(permissions));
            giveToOwnerOf(stateDir, temporary);
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static void giveToOwnerOf(Path stateDir, Path file) throws IOException {
        UserPrincipal owner = Files.getOwner(stateDir);
        if (!owner.equals(Files.getOwner(file))) {
            try {
                Files.setOwner(file, owner);
            } catch (IOException | SecurityException e) {
                // Not root: the file stays ours, which is the daemon's own user anyway.
            }
        }
    }
}
