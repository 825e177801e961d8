package dev.tollgate.store;

import java.time.Instant;

/**
 * A listener created through the admin API, as kept in table {@code listener}.
 *
 * @param node           the node it runs on
 * @param name           its name, unique on the node
 * @param definitionJson the listener object as posted (the same JSON as in tollgate.json)
 * @param state          {@value #RUNNING} or {@value #STOPPED}: the state to bring it back in after a restart
 * @param createdAt      when it was first saved
 * @param updatedAt      when it was last saved or changed state
 */
public record StoredListener(
        String node,
        String name,
        String definitionJson,
        String state,
        Instant createdAt,
        Instant updatedAt) {

    public static final String RUNNING = "RUNNING";
    public static final String STOPPED = "STOPPED";
}
