package dev.tollgate.daemon.sink;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * One RELP frame (librelp's doc/relp.html, "RELP frame"): {@code TXNR SP COMMAND SP DATALEN [SP DATA] TRAILER},
 * TRAILER a line feed, DATALEN the number of bytes of DATA, and no {@code SP DATA} when it is 0. Kept apart from
 * {@link RelpTransport} so that the wire format can be read, and tested, without a socket.
 *
 * @param txnr    the transaction number: 1 to {@value #MAX_TXNR} from the client, 0 for a server's unsolicited
 *                {@code serverclose}
 * @param command {@code open}, {@code syslog}, {@code close}, {@code rsp}, {@code serverclose}
 * @param data    DATA, empty when DATALEN is 0
 */
record RelpFrame(int txnr, String command, byte[] data) {

    /** The highest TXNR; the next one is 1 again. */
    static final int MAX_TXNR = 999_999_999;
    /** TXNR and DATALEN are at most 9 digits; a command is 1 to 32 letters. */
    private static final int MAX_DIGITS = 9;
    private static final int MAX_COMMAND = 32;
    private static final byte SP = ' ';
    private static final byte TRAILER = '\n';

    /** The frame's bytes, ready to be written. */
    byte[] encode() {
        String head = txnr + " " + command + " " + data.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + data.length + 2);
        out.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
        if (data.length > 0) {
            out.write(SP);
            out.writeBytes(data);
        }
        out.write(TRAILER);
        return out.toByteArray();
    }

    /** DATA as text: a response's status line and offers are US-ASCII. */
    String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    /** A {@code rsp}'s status code (librelp: "200 OK", "500 ..."), or -1 when DATA does not start with one. */
    int status() {
        String text = text();
        if (text.length() < 3 || !text.substring(0, 3).chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Integer.parseInt(text.substring(0, 3));
    }

    /** The first line of DATA (a response's status), for messages. */
    String statusLine() {
        String text = text();
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }

    /**
     * Reads one frame, blocking until it is complete.
     *
     * @throws EOFException when the stream ends before a frame starts or within one
     * @throws IOException  when the bytes are not a RELP frame (a peer that does not speak RELP)
     */
    static RelpFrame read(InputStream in) throws IOException {
        int txnr = (int) number(in, "TXNR", true);
        String command = command(in);
        long length = number(in, "DATALEN", false);
        byte[] data = new byte[0];
        if (length > 0) {
            data = in.readNBytes((int) length);
            if (data.length < length) {
                throw new EOFException("connection closed within a RELP frame's data");
            }
            expect(in, TRAILER, "the trailer (a line feed) after DATA");
        }
        return new RelpFrame(txnr, command, data);
    }

    /** Digits up to a space; for DATALEN also up to the trailer, which then ends the frame (DATALEN 0). */
    private static long number(InputStream in, String name, boolean first) throws IOException {
        long value = 0;
        int digits = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException(first && digits == 0 ? "connection closed"
                        : "connection closed within a RELP frame");
            }
            if (b >= '0' && b <= '9' && digits < MAX_DIGITS) {
                value = value * 10 + (b - '0');
                digits++;
            } else if (digits > 0 && (b == SP || (!first && b == TRAILER))) {
                if (!first && b == TRAILER && value != 0) {
                    throw new IOException("not a RELP frame: DATALEN " + value + " without data");
                }
                return value;
            } else {
                throw new IOException("not a RELP frame: unexpected byte 0x" + Integer.toHexString(b) + " in "
                        + name);
            }
        }
    }

    private static String command(InputStream in) throws IOException {
        StringBuilder command = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed within a RELP frame");
            }
            if (b == SP && command.length() > 0) {
                return command.toString();
            }
            if (!Character.isLetter(b) || command.length() == MAX_COMMAND) {
                throw new IOException("not a RELP frame: unexpected byte 0x" + Integer.toHexString(b)
                        + " in COMMAND");
            }
            command.append((char) b);
        }
    }

    private static void expect(InputStream in, byte wanted, String what) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("connection closed within a RELP frame");
        }
        if (b != wanted) {
            throw new IOException("not a RELP frame: 0x" + Integer.toHexString(b) + " where " + what + " belongs");
        }
    }
}
