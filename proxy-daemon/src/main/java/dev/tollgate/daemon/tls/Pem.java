package dev.tollgate.daemon.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** PEM files (RFC 7468): certificates and private keys, read and written with Bouncy Castle. */
public final class Pem {

    private Pem() {
    }

    /** A private key as PKCS#8 PEM ({@code BEGIN PRIVATE KEY}), with its curve named in the algorithm. */
    public static String encode(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    public static String encode(X509Certificate certificate) throws IOException {
        return encodeObject(certificate);
    }

    private static String encodeObject(Object certificateOrKey) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(certificateOrKey);
        }
        return text.toString();
    }

    /** The first certificate in a PEM file. */
    public static X509Certificate readCertificate(Path file) throws IOException, CertificateException {
        List<X509Certificate> all = readCertificates(file);
        if (all.isEmpty()) {
            throw new CertificateException(file + " holds no certificate");
        }
        return all.get(0);
    }

    /** Every certificate in a PEM bundle (one or more BEGIN CERTIFICATE blocks). */
    public static List<X509Certificate> readCertificates(Path file) throws IOException, CertificateException {
        List<X509Certificate> certificates = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certificates.add((X509Certificate) certificate);
            }
        }
        return certificates;
    }

    /** A private key in PKCS#8 ({@code BEGIN PRIVATE KEY}) or SEC 1 ({@code BEGIN EC PRIVATE KEY}) PEM. */
    public static PrivateKey readPrivateKey(Path file) throws IOException, GeneralSecurityException {
        try (Reader reader = Files.newBufferedReader(file); PEMParser parser = new PEMParser(reader)) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw new GeneralSecurityException(file + " holds no private key");
        }
    }
}
