package dev.tollgate.daemon.config;

/** A configuration that cannot be used; the message is one line naming the file, the key, the value and the limit. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
