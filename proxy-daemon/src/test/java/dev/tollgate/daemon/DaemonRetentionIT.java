package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.RetentionPurger;
import dev.tollgate.testing.Poll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The daemon runs retention from store.retentionDays, on its own thread, and stops it when it stops. */
class DaemonRetentionIT {

    // The first purge runs RetentionPurger.FIRST_RUN_DELAY_MS after start.
    private static final long WAIT_MS = RetentionPurger.FIRST_RUN_DELAY_MS + 50_000;

    @TempDir
    Path dir;

    @BeforeEach
    void noRetentionThreadFromAnEarlierTest() throws Exception {
        Poll.until("no retention thread left from an earlier daemon", Duration.ofMillis(WAIT_MS),
                () -> retentionThreads().isEmpty());
    }

    @Test
    void rowsOlderThanRetentionDaysGoShortlyAfterStartAndNewerOnesStay() throws Exception {
        RunningTollgate tollgate = RunningTollgate.startWithConfig(dir,
                "{\"store\": {\"retentionDays\": 7}, \"listeners\": [" + RunningTollgate.loopbackListener() + "]}");
        try {
            Instant now = Instant.now();
            append(tollgate, now.minus(Duration.ofDays(8)), "/eight-days-old");
            append(tollgate, now.minus(Duration.ofDays(6)), "/six-days-old");
            assertEquals(1, retentionThreads().size());

            Poll.until("the first purge deleted the old row", Duration.ofMillis(WAIT_MS),
                    () -> paths(tollgate).equals(List.of("/six-days-old")));
        } finally {
            tollgate.close();
        }
        Poll.until("the retention thread ended with the daemon", Duration.ofMillis(WAIT_MS),
                () -> retentionThreads().isEmpty());
    }

    @Test
    void retentionDaysZeroStartsNoPurger() throws Exception {
        try (RunningTollgate tollgate = RunningTollgate.startWithConfig(dir,
                "{\"store\": {\"retentionDays\": 0}, \"listeners\": [" + RunningTollgate.loopbackListener() + "]}")) {
            append(tollgate, Instant.EPOCH, "/epoch");

            assertTrue(retentionThreads().isEmpty());
            assertEquals(List.of("/epoch"), paths(tollgate));
        }
    }

    private static void append(RunningTollgate tollgate, Instant ts, String path) {
        tollgate.daemon().accessLog().writer().append(new AccessRecord(null, ts.toEpochMilli(), 1L, "node", "main",
                "127.0.0.1", 40_000, null, Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, path, 200, 0L, 0L,
                "192.0.2.1", null, Outcome.OK, null));
    }

    private static List<String> paths(RunningTollgate tollgate) throws Exception {
        return tollgate.rows().stream().map(AccessRecord::path).toList();
    }

    private static List<Thread> retentionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(RetentionPurger.THREAD_NAME) && t.isAlive())
                .toList();
    }
}
