package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.RawOrigin;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What every battery case checks the same way: the one access-log row and a connection's state. */
final class Battery {

    private Battery() {
    }

    /** A listener "main" that may reach loopback origins, with extra JSON members (", \"idleTimeoutMs\": 1000"). */
    static String loopbackListener(String extra, int... connectPorts) {
        String base = RunningTollgate.loopbackListener(connectPorts);
        return base.substring(0, base.length() - 1) + extra + "}";
    }

    /**
     * Waits for the row of the one request a case sent, then checks it is the only one: a rejected request
     * leaves exactly one row.
     */
    static AccessRecord onlyRow(RunningTollgate tollgate) throws Exception {
        AccessRecord row = tollgate.awaitRows(1).get(0);
        List<AccessRecord> all = tollgate.rows();
        assertEquals(1, all.size(), () -> "one request, one row: " + all);
        return row;
    }

    /** Checks a row's status, outcome and that a reason is given exactly when the outcome is not OK. */
    static void assertRow(AccessRecord row, int status, Outcome outcome) {
        assertEquals(status, row.status(), () -> "status of " + row);
        assertEquals(outcome, row.outcome(), () -> "outcome of " + row);
        if (outcome == Outcome.OK) {
            assertNull(row.reason(), () -> "reason of " + row);
        } else {
            assertNotNull(row.reason(), () -> "reason of " + row);
        }
    }

    /**
     * Sends a plain GET through {@code connection} to {@code origin} and expects its 200: the connection is
     * still in sync after whatever the case sent before, so it can be reused.
     */
    static void assertReusable(RawHttpConnection connection, RawOrigin origin) throws IOException {
        connection.send("GET " + origin.base() + "/again HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n");
        RawHttpConnection.Response response = connection.readResponse();
        assertEquals(200, response.status(), "a second request on the same connection");
        assertEquals("ok", response.bodyText());
    }
}
