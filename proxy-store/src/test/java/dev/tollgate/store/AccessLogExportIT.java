package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AccessLogReader#streamAll}: the CSV export, over more rows than a page could ever hold. */
class AccessLogExportIT {

    private static final int ROWS = 200_000;
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void twoHundredThousandRowsStreamThroughASinkThatOnlyCounts() throws Exception {
        StoreConfig config = new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, 5_000, 1_000,
                20_000);
        try (AccessLog log = AccessLog.open(config)) {
            for (int i = 0; i < ROWS; i++) {
                log.writer().append(record(i));
            }
            assertTrue(log.writer().flush(120_000));

            AtomicLong counted = new AtomicLong();
            AtomicLong previousId = new AtomicLong();
            StreamedRows all = log.reader().streamAll(AccessQuery.all(), r -> {
                assertTrue(r.id() > previousId.getAndSet(r.id()), "ids rise");
                counted.incrementAndGet();
            });

            assertEquals(ROWS, counted.get());
            assertEquals(new StreamedRows(ROWS, previousId.get()), all);

            // The second half by time: the export of a time range.
            AtomicLong inRange = new AtomicLong();
            StreamedRows secondHalf = log.reader().streamAll(
                    AccessQuery.all().withSince(T0.plusSeconds(ROWS / 2)), r -> inRange.incrementAndGet());

            assertEquals(ROWS / 2, inRange.get());
            assertEquals(all.lastId(), secondHalf.lastId());
        }
    }

    /** One row a second from T0, over 5,000 hosts and 1,000 clients. */
    private static AccessRecord record(int i) {
        return new AccessRecord(null, T0.plusSeconds(i).toEpochMilli(), 3L, "node", "public",
                "10.1." + (i % 1_000) / 250 + "." + i % 250, 40_000, null, Kind.FORWARD, "HTTP/1.1", "GET",
                "h" + i % 5_000 + ".example.net", 80, "/" + i, 200, 0L, 1_024L, "192.0.2.1", null, Outcome.OK, null);
    }
}
