package dev.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A listener as the API shows it: its definition (the same object as in tollgate.json, with every default
 * filled in), where it came from, its state and its live counters.
 *
 * @param name       the listener's name
 * @param state      RUNNING or STOPPED
 * @param origin     CONFIG (tollgate.json) or API
 * @param boundPort  the port actually bound, or null when stopped
 * @param startedAt  when it last started (ISO-8601 UTC), or null when stopped
 * @param definition the listener object, every key present
 * @param counters   live counters since the daemon started
 */
public record ListenerView(
        String name,
        String state,
        String origin,
        Integer boundPort,
        String startedAt,
        JsonNode definition,
        Counters counters) {

    public static final String RUNNING = "RUNNING";
    public static final String STOPPED = "STOPPED";
    public static final String ORIGIN_CONFIG = "CONFIG";
    public static final String ORIGIN_API = "API";
}
