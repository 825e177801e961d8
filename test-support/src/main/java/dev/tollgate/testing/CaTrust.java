package dev.tollgate.testing;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.security.KeyStore;
import java.security.cert.X509Certificate;

/** Client TLS contexts that trust what a test names and nothing else. */
public final class CaTrust {

    private CaTrust() {
    }

    /** Trusts one CA and nothing else, as a device given Tollgate's CA would. */
    public static SSLContext trustingOnly(X509Certificate ca) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("ca", ca);
        return trusting(store);
    }

    /** Trusts the certificates of {@code store} and nothing else. */
    public static SSLContext trusting(KeyStore store) throws Exception {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
