package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The flush interval bounds how long a record waits after its request ended, which is what a kill -9 can
 * lose (docs/access-log.md, "Durability"), not how long it waits after the writer got round to it.
 */
class AccessLogWriterFlushWindowIT {

    /** Half the interval used below: a writer that waited the whole interval again would miss it. */
    private static final long WITHIN_MS = StoreConfig.MAX_FLUSH_INTERVAL_MS / 2;

    @TempDir
    Path dir;

    @Test
    void aRecordWhoseRequestEndedMoreThanAnIntervalAgoIsWrittenWithoutWaitingAnother() throws Exception {
        StoreConfig config = new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, 500,
                StoreConfig.MAX_FLUSH_INTERVAL_MS, null);
        try (AccessLog log = AccessLog.open(config)) {
            // As a record that sat in the queue, behind a batch being written, for longer than the interval.
            long endedMs = System.currentTimeMillis() - 2L * StoreConfig.MAX_FLUSH_INTERVAL_MS;
            log.writer().append(new AccessRecord(null, endedMs - 7, 7L, "node", "public", "127.0.0.1", 40_000,
                    null, Kind.FORWARD, "HTTP/1.1", "GET", "example.org", 80, "/late", 200, 0L, 5L, "192.0.2.1",
                    null, Outcome.OK, null));

            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WITHIN_MS);
            try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
                while (true) {
                    try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM access_log WHERE path = '/late'")) {
                        rs.next();
                        if (rs.getLong(1) == 1) {
                            return;
                        }
                    }
                    if (System.nanoTime() > deadline) {
                        fail("the record was not written within " + WITHIN_MS + " ms although its request ended "
                                + 2 * StoreConfig.MAX_FLUSH_INTERVAL_MS + " ms ago and the interval is "
                                + StoreConfig.MAX_FLUSH_INTERVAL_MS + " ms");
                    }
                    Thread.sleep(20);
                }
            }
        }
    }
}
