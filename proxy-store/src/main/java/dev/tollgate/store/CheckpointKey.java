package dev.tollgate.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The node's Ed25519 key pair that signs the checkpoints of its hash chain ({@link ChainCheckpoints}), kept in the
 * state directory: {@value #PRIVATE_FILE} (mode 0600, created with that mode, never widened) holds the private
 * key and a copy of the public one, {@value #PUBLIC_FILE} (0644) the public key, which {@code tollgate verify}
 * reads and an auditor may copy elsewhere. Both are Base64 of the JDK's standard encodings (PKCS#8, X.509).
 */
public final class CheckpointKey {

    public static final String PRIVATE_FILE = "checkpoint.key";
    public static final String PUBLIC_FILE = "checkpoint.pub";
    public static final String ALGORITHM = "Ed25519";

    private static final Set<PosixFilePermission> PRIVATE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PUBLIC_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private CheckpointKey(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /**
     * The key pair in {@code stateDir}, made when {@value #PRIVATE_FILE} does not exist: the private key file is
     * created owner-only before a byte is written to it. {@value #PUBLIC_FILE} is written again from the private
     * key file when it is missing.
     */
    public static CheckpointKey loadOrCreate(Path stateDir) throws IOException {
        Path privateFile = stateDir.resolve(PRIVATE_FILE);
        if (!Files.exists(privateFile)) {
            KeyPair pair = generate();
            String text = Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()) + "\n"
                    + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n";
            try {
                Files.createFile(privateFile, PosixFilePermissions.asFileAttribute(PRIVATE_MODE));
                Files.writeString(privateFile, text, StandardOpenOption.TRUNCATE_EXISTING);
            } catch (FileAlreadyExistsException raced) {
                // Another start made it first: read theirs.
            }
        }
        List<String> lines = Files.readAllLines(privateFile, StandardCharsets.US_ASCII);
        CheckpointKey key;
        try {
            key = new CheckpointKey(
                    KeyFactory.getInstance(ALGORITHM).generatePrivate(
                            new PKCS8EncodedKeySpec(Base64.getDecoder().decode(lines.get(0).trim()))),
                    decodePublic(lines.get(1).trim()));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(privateFile + ": holds no usable " + ALGORITHM + " key pair (" + e + ")", e);
        }
        Path publicFile = stateDir.resolve(PUBLIC_FILE);
        if (!Files.exists(publicFile)) {
            writePublic(publicFile, key.publicKey);
        }
        return key;
    }

    /**
     * The public key in {@code file} ({@value #PUBLIC_FILE} or a copy of it).
     *
     * @throws IOException naming the file when it is missing or holds no Ed25519 public key
     */
    public static PublicKey readPublic(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file (the daemon writes it at its first start)", e);
        }
        try {
            return decodePublic(text);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(file + ": holds no " + ALGORITHM + " public key (" + e + ")", e);
        }
    }

    /** Signs {@code bytes} with the private key. */
    public byte[] sign(byte[] bytes) {
        try {
            Signature signer = Signature.getInstance(ALGORITHM);
            signer.initSign(privateKey);
            signer.update(bytes);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing a checkpoint failed", e);
        }
    }

    /** The public key, which verifies what {@link #sign} signs. */
    public PublicKey publicKey() {
        return publicKey;
    }

    /** Whether {@code signature} is {@code key}'s signature of {@code bytes}. */
    public static boolean verify(PublicKey key, byte[] bytes, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance(ALGORITHM);
            verifier.initVerify(key);
            verifier.update(bytes);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no " + ALGORITHM, e);
        }
    }

    private static PublicKey decodePublic(String base64) throws GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(Base64.getDecoder()
                .decode(base64)));
    }

    /** Created owner-only like any file here, then opened to 0644: it is public, and verify runs as anyone. */
    private static void writePublic(Path file, PublicKey key) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PRIVATE_MODE));
            Files.writeString(file, Base64.getEncoder().encodeToString(key.getEncoded()) + "\n",
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.setPosixFilePermissions(file, PUBLIC_MODE);
        } catch (FileAlreadyExistsException raced) {
            // Another start wrote it.
        }
    }
}
