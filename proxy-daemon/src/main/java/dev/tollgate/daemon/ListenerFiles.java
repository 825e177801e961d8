package dev.tollgate.daemon;

import dev.tollgate.daemon.config.ConfigException;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.gate.ProxyAuthenticator;
import dev.tollgate.daemon.tls.UpstreamTrust;
import dev.tollgate.daemon.upstream.ParentProxy;

import java.nio.file.Path;

/**
 * The files a config's listeners read when they start (an htpasswd users file, a parent proxy's password file,
 * an interception trust bundle),
 * read once up front, so that {@code check}, {@code run} and a reload all refuse a config naming a file that
 * cannot be read, as a config error naming the key and the file, before anything starts.
 */
public final class ListenerFiles {

    private ListenerFiles() {
    }

    /**
     * @param source the config file, or null for the embedded defaults
     * @throws ConfigException naming the listener, the key, the file and why it cannot be used
     */
    public static void check(TollgateConfig config, Path source) {
        for (int i = 0; i < config.listeners().size(); i++) {
            ListenerConfig listener = config.listeners().get(i);
            try {
                ProxyAuthenticator.of(listener.auth());
                ParentProxy.of(listener.upstreamProxy());
                UpstreamTrust.trustStore(listener.intercept().trustBundle());
            } catch (IllegalArgumentException e) {
                throw ConfigException.in(source, "listeners[" + i + "]." + e.getMessage());
            }
        }
    }
}
