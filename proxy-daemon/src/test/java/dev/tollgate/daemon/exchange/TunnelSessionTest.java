package dev.tollgate.daemon.exchange;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How an established tunnel's row names the way it ended, from what its two connections reported. */
class TunnelSessionTest {

    private static final boolean CLIENT = false;
    private static final boolean UPSTREAM = true;

    private final List<AccessRecord> rows = new ArrayList<>();
    private final TunnelSession session = new TunnelSession("node", "main", "127.0.0.1", 40000, "HTTP/1.1",
            "example.com", 443, new AccessRecordSink() {
                @Override
                public void journal(AccessRecord r) {
                    rows.add(r);
                }

                @Override
                public void ended(AccessRecord r) {
                }
            });

    /** As ConnectHandler's pipe does after a failed write: the failure, then both connections closed with it. */
    private AccessRecord writeFailsThenBothClose(boolean failingSide) {
        IOException reset = new IOException("Broken pipe");
        session.failed(failingSide, reset);
        session.connectionClosed(UPSTREAM, reset);
        session.connectionClosed(CLIENT, reset);
        assertEquals(1, rows.size(), "rows: " + rows.size());
        return rows.get(0);
    }

    @Test
    void aClientThatHadSentItsFinAndThenResetsIsNoAbort() {
        session.finished(CLIENT);
        AccessRecord row = writeFailsThenBothClose(CLIENT);
        assertEquals(Outcome.OK, row.outcome(), row.reason());
        assertNull(row.reason());
    }

    @Test
    void anUpstreamThatHadSentItsFinAndThenResetsIsNoUpstreamReset() {
        session.finished(UPSTREAM);
        AccessRecord row = writeFailsThenBothClose(UPSTREAM);
        assertEquals(Outcome.OK, row.outcome(), row.reason());
        assertNull(row.reason());
    }

    @Test
    void aClientResetWithoutItsFinIsAnAbortEvenWhenTheUpstreamHadFinished() {
        session.finished(UPSTREAM);
        AccessRecord row = writeFailsThenBothClose(CLIENT);
        assertEquals(Outcome.CLIENT_ABORT, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("client connection failed: "), row.reason());
    }

    @Test
    void anUpstreamResetWithoutItsFinIsAnUpstreamResetEvenWhenTheClientHadFinished() {
        session.finished(CLIENT);
        AccessRecord row = writeFailsThenBothClose(UPSTREAM);
        assertEquals(Outcome.UPSTREAM_RESET, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("upstream connection failed: "), row.reason());
    }
}
