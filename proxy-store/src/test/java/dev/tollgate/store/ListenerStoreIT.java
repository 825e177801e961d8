package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ListenerStoreIT {

    private static final Instant T0 = Instant.parse("2026-01-01T12:00:00Z");
    private static final String DEF_A = "{\"name\":\"a\",\"host\":\"127.0.0.1\",\"port\":3128}";
    private static final String DEF_A2 = "{\"name\":\"a\",\"host\":\"127.0.0.1\",\"port\":3129}";
    private static final String DEF_B = "{\"name\":\"b\",\"host\":\"0.0.0.0\",\"port\":8080}";

    @TempDir
    Path dir;

    private final SettableClock clock = new SettableClock(T0);

    @Test
    void aSavedListenerIsListedWithItsDefinitionStateAndTimes() throws Exception {
        try (AccessLog log = open()) {
            ListenerStore store = new ListenerStore(log.dataSource(), clock);

            store.save("node-1", "a", DEF_A, StoredListener.RUNNING);

            assertEquals(List.of(new StoredListener("node-1", "a", DEF_A, "RUNNING", T0, T0)), store.list("node-1"));
            assertEquals(Optional.of(store.list("node-1").get(0)), store.find("node-1", "a"));
            assertEquals(Optional.empty(), store.find("node-1", "b"));
        }
    }

    @Test
    void savingAgainReplacesDefinitionAndStateAndKeepsCreatedAt() throws Exception {
        try (AccessLog log = open()) {
            ListenerStore store = new ListenerStore(log.dataSource(), clock);
            store.save("node-1", "a", DEF_A, StoredListener.RUNNING);
            clock.now = T0.plusSeconds(60);

            store.save("node-1", "a", DEF_A2, StoredListener.STOPPED);

            assertEquals(List.of(new StoredListener("node-1", "a", DEF_A2, "STOPPED", T0, T0.plusSeconds(60))),
                    store.list("node-1"));
        }
    }

    @Test
    void updateStateChangesOnlyTheStateAndUpdatedAt() throws Exception {
        try (AccessLog log = open()) {
            ListenerStore store = new ListenerStore(log.dataSource(), clock);
            store.save("node-1", "a", DEF_A, StoredListener.RUNNING);
            clock.now = T0.plusSeconds(5);

            assertTrue(store.updateState("node-1", "a", StoredListener.STOPPED));
            assertFalse(store.updateState("node-1", "missing", StoredListener.STOPPED));

            assertEquals(List.of(new StoredListener("node-1", "a", DEF_A, "STOPPED", T0, T0.plusSeconds(5))),
                    store.list("node-1"));
        }
    }

    @Test
    void deleteRemovesOnceAndThenReportsNothingToRemove() throws Exception {
        try (AccessLog log = open()) {
            log.listeners().save("node-1", "a", DEF_A, StoredListener.RUNNING);
            log.listeners().save("node-1", "b", DEF_B, StoredListener.RUNNING);

            assertTrue(log.listeners().delete("node-1", "a"));
            assertFalse(log.listeners().delete("node-1", "a"));

            assertEquals(List.of("b"), names(log.listeners().list("node-1")));
        }
    }

    @Test
    void theListIsInCreationOrderThenByNameAndPerNode() throws Exception {
        try (AccessLog log = open()) {
            ListenerStore store = new ListenerStore(log.dataSource(), clock);
            clock.now = T0.plusSeconds(10);
            store.save("node-1", "late", DEF_B, StoredListener.RUNNING);
            clock.now = T0;
            store.save("node-1", "zeta", DEF_A, StoredListener.RUNNING);
            store.save("node-1", "alpha", DEF_A, StoredListener.STOPPED);
            store.save("node-2", "other", DEF_A, StoredListener.RUNNING);
            clock.now = T0.plusSeconds(20);
            // A later save of an old listener does not move it: the order is by creation.
            store.save("node-1", "zeta", DEF_A2, StoredListener.RUNNING);

            assertEquals(List.of("alpha", "zeta", "late"), names(store.list("node-1")));
            assertEquals(List.of("other"), names(store.list("node-2")));
            assertEquals(List.of(), store.list("node-3"));
        }
    }

    @Test
    void listenersComeBackInTheirLastStateAfterACloseAndReopen() throws Exception {
        List<StoredListener> before;
        try (AccessLog log = open()) {
            log.listeners().save("node-1", "a", DEF_A, StoredListener.RUNNING);
            log.listeners().save("node-1", "b", DEF_B, StoredListener.RUNNING);
            log.listeners().updateState("node-1", "b", StoredListener.STOPPED);
            before = log.listeners().list("node-1");
        }
        try (AccessLog log = open()) {
            List<StoredListener> after = log.listeners().list("node-1");

            assertEquals(before, after);
            assertEquals(List.of("RUNNING", "STOPPED"), after.stream().map(StoredListener::state).toList());
        }
    }

    @Test
    void anUnknownStateOrAnOverlongValueIsRefusedNamingTheKey() throws Exception {
        try (AccessLog log = open()) {
            ListenerStore store = log.listeners();

            IllegalArgumentException state = assertThrows(IllegalArgumentException.class,
                    () -> store.save("node-1", "a", DEF_A, "PAUSED"));
            IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                    () -> store.save("node-1", "n".repeat(65), DEF_A, StoredListener.RUNNING));
            IllegalArgumentException definition = assertThrows(IllegalArgumentException.class,
                    () -> store.save("node-1", "a", "x".repeat(16_385), StoredListener.RUNNING));
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> store.save("node-1", "a", null, StoredListener.RUNNING));

            assertTrue(state.getMessage().startsWith("state: \"PAUSED\""), state.getMessage());
            assertTrue(name.getMessage().startsWith("name: 65 characters"), name.getMessage());
            assertTrue(definition.getMessage().startsWith("definition: 16385 characters"), definition.getMessage());
            assertEquals("definition: missing", missing.getMessage());
            assertEquals(List.of(), store.list("node-1"));
        }
    }

    private AccessLog open() throws Exception {
        return AccessLog.open(new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null, null, null));
    }

    private static List<String> names(List<StoredListener> listeners) {
        return listeners.stream().map(StoredListener::name).toList();
    }

    /** A clock the test moves by hand, so that created and updated times are known exactly. */
    private static final class SettableClock extends Clock {
        Instant now;

        SettableClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
