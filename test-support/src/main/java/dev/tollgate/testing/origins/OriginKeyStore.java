package dev.tollgate.testing.origins;

import dev.tollgate.testing.CaTrust;

import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A PKCS12 key store holding a self-signed certificate for 127.0.0.1 and localhost, made by the JDK's keytool, for
 * any loopback TLS server a test starts ({@link WebOrigin#tls}), and the client-side views of it: an SSLContext
 * that trusts it and its certificate in PEM.
 */
public final class OriginKeyStore {

    /** The password of every such key store. */
    public static final String PASSWORD = "changeit";
    private static final String ALIAS = "origin";

    private OriginKeyStore() {
    }

    /** The key store {@code dir}/origin.p12, made on the first call for that directory. */
    public static Path in(Path dir) throws Exception {
        Path store = dir.resolve("origin.p12");
        if (!Files.exists(store)) {
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process process = new ProcessBuilder(keytool, "-genkeypair", "-alias", ALIAS, "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                    "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD,
                    "-keypass", PASSWORD).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + output);
            }
        }
        return store;
    }

    /** An SSLContext that trusts the certificate of {@code keyStore}. */
    public static SSLContext trusting(Path keyStore) throws Exception {
        return CaTrust.trusting(load(keyStore));
    }

    /** Writes the certificate of {@code keyStore} to {@code file} in PEM; returns the file. */
    public static Path writeCertificatePem(Path keyStore, Path file) throws Exception {
        String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(load(keyStore).getCertificate(ALIAS).getEncoded());
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n");
        return file;
    }

    private static KeyStore load(Path keyStore) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, PASSWORD.toCharArray());
        }
        return store;
    }
}
