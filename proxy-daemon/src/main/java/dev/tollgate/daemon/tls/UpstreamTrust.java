package dev.tollgate.daemon.tls;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The certificates an intercepting listener trusts for upstream servers: the JVM's trust store, plus the CA
 * certificates of {@code intercept.trustBundle} when set (an organisation's internal CA, say).
 */
public final class UpstreamTrust {

    private UpstreamTrust() {
    }

    /**
     * A key store of trusted certificates; throws IllegalArgumentException naming the bundle when it cannot be
     * read or holds no certificate.
     */
    public static KeyStore trustStore(String trustBundle) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (X509Certificate certificate : jvmTrusted()) {
                store.setCertificateEntry("jvm-" + n++, certificate);
            }
            if (trustBundle != null) {
                List<X509Certificate> bundle;
                try {
                    bundle = Pem.readCertificates(Path.of(trustBundle));
                } catch (IOException | GeneralSecurityException e) {
                    throw new IllegalArgumentException("intercept.trustBundle: " + trustBundle + " cannot be read ("
                            + e.getMessage() + ")", e);
                }
                if (bundle.isEmpty()) {
                    throw new IllegalArgumentException("intercept.trustBundle: " + trustBundle + " holds no PEM"
                            + " certificate");
                }
                for (X509Certificate certificate : bundle) {
                    store.setCertificateEntry("bundle-" + n++, certificate);
                }
            }
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the upstream trust store: " + e.getMessage(), e);
        }
    }

    private static X509Certificate[] jvmTrusted() throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                return x509.getAcceptedIssuers();
            }
        }
        return new X509Certificate[0];
    }
}
