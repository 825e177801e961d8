package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Basic proxy authentication (RFC 7617) against an htpasswd file of bcrypt entries. bcrypt costs milliseconds
 * on purpose, so a successful check is remembered for {@link #CACHE_TTL_MS} under the SHA-256 of the header
 * value (never the password itself), in a cache of at most {@link #CACHE_SIZE} entries; a change of the users
 * file empties it, so a removed user or a changed password takes effect at once.
 */
public final class BasicProxyAuthenticator implements ProxyAuthenticator {

    static final int CACHE_SIZE = 1024;
    static final long CACHE_TTL_MS = 300_000;
    private static final int PROXY_AUTHENTICATION_REQUIRED = 407;

    private final UsersFile users;
    private final Map<String, Cached> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    private record Cached(String username, long expiresAtNanos, long usersVersion) {
    }

    public BasicProxyAuthenticator(Path usersFile) {
        this.users = new UsersFile(usersFile);
    }

    @Override
    public String authenticate(String header) throws RequestRefusedException {
        if (header == null || header.isBlank()) {
            throw new RequestRefusedException(PROXY_AUTHENTICATION_REQUIRED, Outcome.AUTH_REQUIRED,
                    "proxy authentication required: no Proxy-Authorization header");
        }
        String value = header.trim();
        int space = value.indexOf(' ');
        if (space < 0 || !"basic".equals(value.substring(0, space).toLowerCase(Locale.ROOT))) {
            throw new RequestRefusedException(PROXY_AUTHENTICATION_REQUIRED, Outcome.AUTH_FAILED,
                    "proxy authentication failed: only the Basic scheme is accepted");
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(value.substring(space + 1).trim()),
                    StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new RequestRefusedException(PROXY_AUTHENTICATION_REQUIRED, Outcome.AUTH_FAILED,
                    "proxy authentication failed: the Basic credentials are not valid base64");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            throw new RequestRefusedException(PROXY_AUTHENTICATION_REQUIRED, Outcome.AUTH_FAILED,
                    "proxy authentication failed: the Basic credentials have no ':' (RFC 7617 2)");
        }
        String username = decoded.substring(0, colon);
        long version = users.refresh();
        String key = sha256(value);
        long now = System.nanoTime();
        synchronized (cache) {
            Cached hit = cache.get(key);
            if (hit != null && hit.usersVersion == version && now - hit.expiresAtNanos < 0) {
                return hit.username;
            }
        }
        UsersFile.Check check = users.check(username, decoded.substring(colon + 1));
        if (check != UsersFile.Check.OK) {
            String why = check == UsersFile.Check.UNKNOWN_USER ? "unknown user" : "wrong password";
            throw new RequestRefusedException(PROXY_AUTHENTICATION_REQUIRED, Outcome.AUTH_FAILED,
                    "proxy authentication failed for user \"" + printable(username) + "\": " + why, username);
        }
        synchronized (cache) {
            cache.put(key, new Cached(username, now + CACHE_TTL_MS * 1_000_000, version));
        }
        return username;
    }

    @Override
    public boolean knows(String username) {
        users.refreshNow();
        return users.has(username);
    }

    private static String printable(String text) {
        return text.replaceAll("\\p{Cntrl}", "?");
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
