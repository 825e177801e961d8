package dev.tollgate.daemon.config;

/** Range checks shared by the config records; each message names the key, the value and the limit. */
final class Checks {

    private Checks() {
    }

    static int port(String key, Integer value, int defaultValue) {
        return intInRange(key, value, defaultValue, 0, 65_535);
    }

    static int intInRange(String key, Integer value, int defaultValue, int min, int max) {
        if (value == null) {
            return defaultValue;
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(key + ": " + value + " is out of range (" + min + " to " + max + ")");
        }
        return value;
    }

    static long longInRange(String key, Long value, long defaultValue, long min, long max) {
        if (value == null) {
            return defaultValue;
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(key + ": " + value + " is out of range (" + min + " to " + max + ")");
        }
        return value;
    }

    static String host(String key, String value, String defaultValue) {
        if (value == null) {
            return defaultValue;
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException(key + ": must not be empty (an address such as 127.0.0.1 or 0.0.0.0)");
        }
        return value.trim();
    }
}
