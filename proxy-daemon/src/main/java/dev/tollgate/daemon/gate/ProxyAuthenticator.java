package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.config.AuthConfig;
import dev.tollgate.daemon.policy.RequestRefusedException;

import java.nio.file.Path;

/**
 * Proxy authentication (RFC 9110 11.7.1, 11.7.2): who the client is, from its {@code Proxy-Authorization}
 * header. {@link #NONE} lets everyone through anonymously; {@link BasicProxyAuthenticator} checks Basic
 * credentials against an htpasswd file.
 */
public interface ProxyAuthenticator {

    /** The challenge sent with every 407 (RFC 9110 11.7.1). */
    String CHALLENGE = "Basic realm=\"tollgate\"";

    /** No authentication: every request is anonymous. */
    ProxyAuthenticator NONE = header -> null;

    /**
     * Called for every request and CONNECT that passed the client rules, with its {@code Proxy-Authorization}
     * value (null when absent).
     *
     * @return the authenticated user name, or null when this listener does not authenticate
     * @throws RequestRefusedException 407: AUTH_REQUIRED when no credentials came, AUTH_FAILED (with the user
     *                                 name tried) when they are wrong
     */
    String authenticate(String proxyAuthorization) throws RequestRefusedException;

    /**
     * Whether {@code username} is still a user, its source read afresh (a reload asks, to close the tunnels of
     * users removed). The default, for listeners without authentication: true.
     */
    default boolean knows(String username) {
        return true;
    }

    /** The authenticator a listener's {@code auth} setting asks for. */
    static ProxyAuthenticator of(AuthConfig config) {
        return config.isBasic() ? new BasicProxyAuthenticator(Path.of(config.usersFile())) : NONE;
    }
}
