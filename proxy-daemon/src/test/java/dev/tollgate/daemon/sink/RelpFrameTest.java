package dev.tollgate.daemon.sink;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bytes of RELP frames (librelp's doc/relp.html), both ways; rsyslog's imrelp reads and answers them in the IT. */
class RelpFrameTest {

    @Test
    void aFrameIsTxnrCommandDatalenSpaceDataAndALineFeed() {
        byte[] message = "<134>1 - h app - - - é".getBytes(StandardCharsets.UTF_8);

        assertEquals("7 syslog " + message.length + " <134>1 - h app - - - é\n",
                text(new RelpFrame(7, "syslog", message).encode()));
    }

    @Test
    void withoutDataTheDatalenZeroIsFollowedByTheTrailerAlone() {
        assertEquals("12 close 0\n", text(new RelpFrame(12, "close", new byte[0]).encode()));
    }

    @Test
    void readsAnOpenAnswerItsStatusAndTheFrameAfterIt() throws IOException {
        InputStream in = stream("1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n2 rsp 6 200 OK\n");

        RelpFrame open = RelpFrame.read(in);
        assertEquals(1, open.txnr());
        assertEquals("rsp", open.command());
        assertEquals(200, open.status());
        assertEquals("200 OK", open.statusLine());
        assertEquals(2, RelpFrame.read(in).txnr(), "DATA's line feeds do not end the frame: DATALEN does");
    }

    @Test
    void readsAServercloseAndARefusal() throws IOException {
        InputStream in = stream("0 serverclose 0\n3 rsp 14 500 queue full\n");

        RelpFrame close = RelpFrame.read(in);
        assertEquals(0, close.txnr());
        assertEquals("serverclose", close.command());
        assertEquals(0, close.data().length);
        RelpFrame refused = RelpFrame.read(in);
        assertEquals(500, refused.status());
        assertEquals("500 queue full", refused.statusLine());
    }

    @Test
    void aPeerThatDoesNotSpeakRelpOrStopsWithinAFrameIsAnError() {
        IOException http = assertThrows(IOException.class, () -> RelpFrame.read(stream("HTTP/1.1 400 Bad\r\n")));
        assertTrue(http.getMessage().startsWith("not a RELP frame"), http.getMessage());
        assertThrows(IOException.class, () -> RelpFrame.read(stream("2 rsp 6 200 OKX")), "no trailer");
        assertThrows(IOException.class, () -> RelpFrame.read(stream("2 rsp 6\n")), "DATALEN without data");
        assertThrows(IOException.class, () -> RelpFrame.read(stream("1234567890 rsp 0\n")), "TXNR of 10 digits");
        assertEquals("connection closed", assertThrows(EOFException.class, () -> RelpFrame.read(stream("")))
                .getMessage());
        assertThrows(EOFException.class, () -> RelpFrame.read(stream("2 rsp 6 200")));
    }

    @Test
    void statusIsMinusOneWhenDataHasNoCode() {
        assertEquals(-1, new RelpFrame(2, "rsp", "OK".getBytes(StandardCharsets.US_ASCII)).status());
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
