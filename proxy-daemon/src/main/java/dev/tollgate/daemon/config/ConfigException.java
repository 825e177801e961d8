package dev.tollgate.daemon.config;

import java.nio.file.Path;

/** A configuration that cannot be used; the message is one line naming the file, the key, the value and the limit. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code message} (which names the key, the value and the limit) prefixed with where it was read. */
    public static ConfigException in(Path source, String message) {
        return new ConfigException((source == null ? "embedded defaults" : source.toString()) + ": " + message);
    }
}
