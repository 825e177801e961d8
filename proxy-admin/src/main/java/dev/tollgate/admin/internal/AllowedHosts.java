package dev.tollgate.admin.internal;

import org.eclipse.jetty.server.Request;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The names the admin server answers to: its bind address, localhost, 127.0.0.1, [::1] and
 * {@code admin.allowedHosts}. A request with any other {@code Host} is refused, API call and console file alike,
 * so that a web page on another origin cannot reach the admin port through DNS rebinding.
 */
public final class AllowedHosts {

    private final Set<String> names;

    public AllowedHosts(String bindHost, Set<String> extraAllowedHosts) {
        Set<String> hosts = new HashSet<>(Set.of("localhost", "127.0.0.1", "::1", "[::1]"));
        hosts.add(bindHost.toLowerCase(Locale.ROOT));
        extraAllowedHosts.forEach(h -> hosts.add(h.toLowerCase(Locale.ROOT)));
        this.names = Set.copyOf(hosts);
    }

    /** Throws a 403 unless the request's Host header names this admin server. */
    public void check(Request request) throws ApiException {
        String host = request.getHttpURI().getHost();
        String normalized = host == null ? "" : host.toLowerCase(Locale.ROOT);
        if (!names.contains(normalized)) {
            throw new ApiException(403, "Host \"" + host + "\" is not a name of this admin API (protection against"
                    + " DNS rebinding); use 127.0.0.1 or localhost, or add the name to admin.allowedHosts");
        }
    }
}
