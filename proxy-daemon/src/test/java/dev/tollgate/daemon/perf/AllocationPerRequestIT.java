package dev.tollgate.daemon.perf;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The performance guard that runs in CI (docs/performance.md, "Guard in CI"): how many bytes the daemon's own
 * threads allocate per forwarded request, its access-log row and key index included, must stay under a ceiling. Not a timing
 * test: allocation per request does not depend on how busy the machine is, and it is what makes a request
 * path expensive in GC and cache misses. Measured at about {@value #MEASURED_BYTES} bytes (2026-12-07, after the
 * key index's entries per value and round took it from about 18,500 to 15,100, and the origin's Host made by the
 * proxy instead of from a URI Jetty's client parsed for each request took it to 14,200, and the Via made once
 * instead of per request to 13,700: about a third of it H2's copy-on-write pages for the row and its ts index,
 * half Jetty's request path; docs/performance.md, "Session 18" to "Session 20"); the ceiling
 * leaves room for noise (threads that come and go, about 700 bytes between runs) but not for a change that adds
 * half as much again.
 */
class AllocationPerRequestIT {

    static final int MEASURED_BYTES = 13_700;
    private static final long CEILING_BYTES = 20 * 1024;
    private static final int WARM_UP = 3_000;
    private static final int MEASURED = 5_000;

    @TempDir
    Path dir;

    @Test
    void aForwardedRequestAllocatesLessThanTheCeiling() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener());
             RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            String request = "GET " + origin.base() + "/hello HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\n\r\n";
            forward(client, request, WARM_UP);
            tollgate.awaitRows(WARM_UP);

            long before = allocatedByDaemonThreads(threads);
            forward(client, request, MEASURED);
            tollgate.awaitRows(WARM_UP + MEASURED);
            long perRequest = (allocatedByDaemonThreads(threads) - before) / MEASURED;

            System.out.printf("allocated by the daemon's threads: %,d bytes per forwarded request%n", perRequest);
            assertTrue(perRequest < CEILING_BYTES, perRequest + " bytes per request, ceiling " + CEILING_BYTES);
        }
    }

    private static void forward(RawHttpConnection client, String request, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            client.send(request);
            assertEquals(200, client.readResponse().status());
        }
    }

    /**
     * Bytes allocated so far by the threads the daemon names (request pool, writer, key indexer): not by the
     * test's client or origin. A thread that ended meanwhile drops out, which can only lower the figure.
     */
    private static long allocatedByDaemonThreads(com.sun.management.ThreadMXBean threads) {
        long total = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("tollgate-")) {
                total += Math.max(0, threads.getThreadAllocatedBytes(t.getId()));
            }
        }
        return total;
    }
}
