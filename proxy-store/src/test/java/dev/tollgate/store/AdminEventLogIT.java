package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminEventLogIT {

    private static final Instant T0 = Instant.parse("2026-01-01T12:00:00.123456Z");

    @TempDir
    Path dir;

    @Test
    void anEventRoundTripsWithEveryColumnAndAnId() throws Exception {
        AdminEvent created = new AdminEvent(null, T0, "node-1", "admin", "127.0.0.1", "listener.create", "public",
                AdminEvent.OK, 201, null);
        AdminEvent refused = new AdminEvent(null, T0.plusSeconds(1), "node-1", null, "::1", "listener.delete",
                null, AdminEvent.REFUSED, 401, "missing bearer token");

        try (AccessLog log = open()) {
            log.adminEvents().record(created);
            log.adminEvents().record(refused);

            List<AdminEvent> stored = log.adminEvents().page(0, 10);

            assertEquals(2, stored.size());
            assertEquals(created.withId(stored.get(0).id()), stored.get(0));
            assertEquals(refused.withId(stored.get(1).id()), stored.get(1));
            assertEquals(Instant.parse("2026-01-01T12:00:00.123Z"), stored.get(0).ts(), "kept to the millisecond");
        }
    }

    @Test
    void pagesFollowTheIdCursorWithNoEventMissedOrRepeated() throws Exception {
        try (AccessLog log = open()) {
            for (int i = 0; i < 7; i++) {
                log.adminEvents().record(event("listener.stop", "l" + i));
            }

            List<AdminEvent> first = log.adminEvents().page(0, 3);
            List<AdminEvent> second = log.adminEvents().page(first.get(2).id(), 3);
            List<AdminEvent> third = log.adminEvents().page(second.get(2).id(), 3);
            List<AdminEvent> after = log.adminEvents().page(third.get(0).id(), 3);

            assertEquals(List.of("l0", "l1", "l2"), listeners(first));
            assertEquals(List.of("l3", "l4", "l5"), listeners(second));
            assertEquals(List.of("l6"), listeners(third));
            assertEquals(List.of(), after);
        }
    }

    @Test
    void anOverlongDetailIsStoredCut() throws Exception {
        String detail = "d".repeat(5_000);
        try (AccessLog log = open()) {
            log.adminEvents().record(new AdminEvent(null, T0, "node-1", "admin", "127.0.0.1", "listener.create",
                    "x", AdminEvent.REFUSED, 400, detail));

            assertEquals(detail.substring(0, 1_024), log.adminEvents().page(0, 1).get(0).detail());
        }
    }

    @Test
    void eventsSurviveACloseAndReopen() throws Exception {
        try (AccessLog log = open()) {
            log.adminEvents().record(event("listener.create", "kept"));
        }
        try (AccessLog log = open()) {
            assertEquals(List.of("kept"), listeners(log.adminEvents().page(0, 10)));
        }
    }

    @Test
    void aPageLimitOutOfRangeIsRejectedNamingIt() throws Exception {
        try (AccessLog log = open()) {
            IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                    () -> log.adminEvents().page(0, 0));
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                    () -> log.adminEvents().page(0, 10_001));

            assertEquals("limit: 0 is out of range (1 to 10000)", zero.getMessage());
            assertTrue(tooMany.getMessage().startsWith("limit: 10001 "), tooMany.getMessage());
        }
    }

    private AccessLog open() throws Exception {
        return AccessLog.open(new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null, null, null));
    }

    private static AdminEvent event(String action, String listener) {
        return new AdminEvent(null, T0, "node-1", "admin", "127.0.0.1", action, listener, AdminEvent.OK, 200, null);
    }

    private static List<String> listeners(List<AdminEvent> events) {
        return events.stream().map(AdminEvent::listener).toList();
    }
}
