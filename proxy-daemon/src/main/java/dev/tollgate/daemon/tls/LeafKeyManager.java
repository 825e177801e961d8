package dev.tollgate.daemon.tls;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * The server-side key manager of intercepted connections: the "alias" it chooses is the name the client asked
 * for in its TLS server name indication (RFC 6066 3), or, when it sent none, the CONNECT host (the engine's
 * peer host, set when the engine was made); the certificate for that alias is minted or taken from the cache.
 */
public final class LeafKeyManager extends X509ExtendedKeyManager {

    private final LeafCertificates leaves;

    public LeafKeyManager(LeafCertificates leaves) {
        this.leaves = leaves;
    }

    /** The SNI host name of a handshake (or a finished session), or null when the client sent none. */
    public static String requestedServerName(SSLSession session) {
        if (session instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name.getType() == StandardConstants.SNI_HOST_NAME) {
                    return ((SNIHostName) name).getAsciiName();
                }
            }
        }
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (!keyType.startsWith("EC")) {
            // Every leaf has an EC key: the handshake settles on an EC signature scheme.
            return null;
        }
        String sni = requestedServerName(engine.getHandshakeSession());
        return sni != null ? sni : engine.getPeerHost();
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return alias == null ? null : leaves.chainFor(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return alias == null ? null : leaves.privateKey();
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        // Interception uses engines only.
        return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
