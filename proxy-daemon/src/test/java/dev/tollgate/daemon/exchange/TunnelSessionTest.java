package dev.tollgate.daemon.exchange;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketException;
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

    /** As TunnelHandler does as it issues a write to one side's socket: what it asks the session then. */
    private boolean issueWriteTo(boolean side) {
        return session.endOfStreamWasRead(side);
    }

    /** As ConnectHandler's pipe does after a failed write: the failure, then both connections closed with it. */
    private AccessRecord writeFailsThenBothClose(boolean failingSide, boolean issuedAfterEndOfStream) {
        IOException reset = new IOException("Broken pipe");
        session.failed(failingSide, reset, issuedAfterEndOfStream);
        session.connectionClosed(UPSTREAM, reset);
        session.connectionClosed(CLIENT, reset);
        assertEquals(1, rows.size(), "rows: " + rows.size());
        return rows.get(0);
    }

    @Test
    void aClientThatHadSentItsFinAndThenResetsIsNoAbort() {
        session.endOfStreamRead(CLIENT);
        AccessRecord row = writeFailsThenBothClose(CLIENT, issueWriteTo(CLIENT));
        assertEquals(Outcome.OK, row.outcome(), row.reason());
        assertNull(row.reason());
    }

    @Test
    void anUpstreamThatHadSentItsFinAndThenResetsIsNoUpstreamReset() {
        session.endOfStreamRead(UPSTREAM);
        AccessRecord row = writeFailsThenBothClose(UPSTREAM, issueWriteTo(UPSTREAM));
        assertEquals(Outcome.OK, row.outcome(), row.reason());
        assertNull(row.reason());
    }

    @Test
    void aClientResetWithoutItsFinIsAnAbortEvenWhenTheUpstreamHadFinished() {
        session.endOfStreamRead(UPSTREAM);
        AccessRecord row = writeFailsThenBothClose(CLIENT, issueWriteTo(CLIENT));
        assertEquals(Outcome.CLIENT_ABORT, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("client connection failed: "), row.reason());
    }

    @Test
    void anUpstreamResetWithoutItsFinIsAnUpstreamResetEvenWhenTheClientHadFinished() {
        session.endOfStreamRead(CLIENT);
        AccessRecord row = writeFailsThenBothClose(UPSTREAM, issueWriteTo(UPSTREAM));
        assertEquals(Outcome.UPSTREAM_RESET, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("upstream connection failed: "), row.reason());
    }

    /**
     * What TunnelStressIT's dying upstream can do on Linux: the write to the upstream is issued, meets its reset
     * and so clears it, the upstream's next read (on another thread) returns the end of stream as if a FIN had
     * come, and only then is the write's failure reported. The end of stream read after the write was issued
     * excuses nothing: the row says UPSTREAM_RESET.
     */
    @Test
    void anEndOfStreamReadAfterTheWriteWasIssuedIsNoFinBeforeItsReset() {
        boolean issuedAfterEndOfStream = issueWriteTo(UPSTREAM);
        session.endOfStreamRead(UPSTREAM);
        AccessRecord row = writeFailsThenBothClose(UPSTREAM, issuedAfterEndOfStream);
        assertEquals(Outcome.UPSTREAM_RESET, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("upstream connection failed: "), row.reason());
    }

    /** The same on the client's side. */
    @Test
    void aClientEndOfStreamReadAfterTheWriteWasIssuedIsNoFinBeforeItsReset() {
        boolean issuedAfterEndOfStream = issueWriteTo(CLIENT);
        session.endOfStreamRead(CLIENT);
        AccessRecord row = writeFailsThenBothClose(CLIENT, issuedAfterEndOfStream);
        assertEquals(Outcome.CLIENT_ABORT, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("client connection failed: "), row.reason());
    }

    /** A failed read is a reset the proxy saw itself, not a write meeting one: that side's FIN excuses it not. */
    @Test
    void aReadFailureIsAnAbortEvenAfterThatSidesEndOfStream() {
        session.endOfStreamRead(CLIENT);
        SocketException reset = new SocketException("Connection reset");
        session.failed(CLIENT, reset, false);
        session.connectionClosed(CLIENT, reset);
        session.connectionClosed(UPSTREAM, reset);
        assertEquals(1, rows.size(), "rows: " + rows.size());
        AccessRecord row = rows.get(0);
        assertEquals(Outcome.CLIENT_ABORT, row.outcome(), row.reason());
        assertTrue(row.reason().startsWith("client connection failed: "), row.reason());
    }
}
