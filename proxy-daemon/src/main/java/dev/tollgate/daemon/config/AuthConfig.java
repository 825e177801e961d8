package dev.tollgate.daemon.config;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * Proxy authentication of one listener (RFC 9110 11.7). {@code {"type": "none"}} is the default;
 * {@code {"type": "basic", "usersFile": "/etc/tollgate/users"}} asks every client for Basic credentials and
 * checks them against an htpasswd file of bcrypt entries ({@code htpasswd -B}).
 *
 * @param type      {@code none} or {@code basic}
 * @param usersFile the htpasswd file (basic only); re-read when it changes
 */
public record AuthConfig(String type, String usersFile) {

    public static final String NONE = "none";
    public static final String BASIC = "basic";

    public AuthConfig {
        type = type == null ? NONE : type;
        if (!NONE.equals(type) && !BASIC.equals(type)) {
            throw new IllegalArgumentException("type: \"" + type + "\" is not an authentication type (\"none\" or"
                    + " \"basic\")");
        }
        if (BASIC.equals(type) && (usersFile == null || usersFile.isBlank())) {
            throw new IllegalArgumentException("usersFile: is required when type is \"basic\" (an htpasswd file"
                    + " with bcrypt entries, e.g. \"/etc/tollgate/users\")");
        }
        if (NONE.equals(type) && usersFile != null) {
            throw new IllegalArgumentException("usersFile: \"" + usersFile + "\" is set but type is \"none\" (set"
                    + " \"type\": \"basic\" to use it)");
        }
    }

    /** No authentication: every allowed client may use the listener. */
    public static AuthConfig none() {
        return new AuthConfig(NONE, null);
    }

    /** Whether this is Basic authentication (not a key of the listener object). */
    @JsonIgnore
    public boolean isBasic() {
        return BASIC.equals(type);
    }
}
