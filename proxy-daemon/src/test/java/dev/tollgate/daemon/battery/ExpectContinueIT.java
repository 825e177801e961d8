package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Expect: 100-continue} (issue #20): curl sends it for uploads over 1 MiB and for chunked uploads, git for
 * large pushes, .NET always. The origin here is one that, as RFC 9110 10.1.1 allows, never sends 100 and just
 * reads the body. Tollgate answers the expectation itself once it forwards the request (see docs/reliability.md
 * for why), so the upload arrives whole whether the client waits for a 100 or sends the body after its own
 * short wait. Before the fix both waited for each other until the idle timeout: 504, nothing uploaded.
 */
class ExpectContinueIT {

    private static final int TWO_MIB = 2 * 1024 * 1024;
    private static final int EIGHT_MIB = 8 * 1024 * 1024;

    @TempDir
    Path dir;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    private RunningTollgate tollgate;
    private RawOrigin origin;

    @BeforeEach
    void start() throws Exception {
        // A short idle timeout: the hang this guards against ended in a 504 at the idle timeout.
        tollgate = closed.add(RunningTollgate.start(dir, Battery.loopbackListener(", \"idleTimeoutMs\": 2000")));
        origin = closed.add(RawOrigin.answering());
    }

    @Test
    void uploadWithExpectSentWithoutWaitingReachesAnOriginThatNeverSends100() throws Exception {
        byte[] body = pattern(TWO_MIB);
        try (RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send(head("POST", "Content-Length: " + body.length + "\r\nExpect: 100-continue\r\n"));
            client.send(new String(body, StandardCharsets.ISO_8859_1));

            RawHttpConnection.Response response = client.readFinalResponse(new ArrayList<>());

            assertEquals(200, response.status(), response::bodyText);
            assertEquals("ok", response.bodyText());
            assertUploadedWhole(body);
            Battery.assertReusable(client, origin);
        }
    }

    @Test
    void clientThatWaitsFor100GetsItFromTollgateAndItsUploadArrivesWhole() throws Exception {
        byte[] body = pattern(TWO_MIB);
        try (RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send(head("PUT", "Content-Length: " + body.length + "\r\nExpect: 100-continue\r\n"));

            RawHttpConnection.Response interim = client.readResponse();
            assertEquals(100, interim.status(), "the client waits for 100 before it sends its body");
            client.send(new String(body, StandardCharsets.ISO_8859_1));
            RawHttpConnection.Response response = client.readFinalResponse(new ArrayList<>());

            assertEquals(200, response.status(), response::bodyText);
            assertUploadedWhole(body);
        }
    }

    @Test
    void chunkedUploadWithExpectReachesAnOriginThatNeverSends100() throws Exception {
        byte[] body = pattern(EIGHT_MIB);
        try (RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send(head("POST", "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n"));
            StringBuilder chunks = new StringBuilder();
            int chunk = 64 * 1024;
            for (int at = 0; at < body.length; at += chunk) {
                chunks.append(Integer.toHexString(chunk)).append("\r\n")
                        .append(new String(body, at, chunk, StandardCharsets.ISO_8859_1)).append("\r\n");
            }
            client.send(chunks.append("0\r\n\r\n").toString());

            RawHttpConnection.Response response = client.readFinalResponse(new ArrayList<>());

            assertEquals(200, response.status(), response::bodyText);
            assertUploadedWhole(body);
        }
    }

    @Test
    void uploadWithExpectThatIsRefusedOnItsHeadGetsTheRefusalAndNo100() throws Exception {
        try (RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            // Origin-form: refused on the head (RFC 9110 10.1.1: a final status now, instead of a 100).
            client.send("POST /upload HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\nContent-Length: 1024\r\nExpect: 100-continue\r\n\r\n");

            RawHttpConnection.Response response = client.readResponse();

            assertEquals(400, response.status());
            assertEquals(0, origin.connections());
            Battery.assertRow(Battery.onlyRow(tollgate), 400, Outcome.BAD_REQUEST);
        }
    }

    /** Head of a request to the origin's /upload with {@code fields} (each ending in CRLF). */
    private String head(String method, String fields) {
        return method + " " + origin.base() + "/upload HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                + "\r\nContent-Type: application/octet-stream\r\n" + fields + "\r\n";
    }

    /** The origin got the body whole and a head without the expectation Tollgate answered; the row says so. */
    private void assertUploadedWhole(byte[] body) throws Exception {
        assertEquals(1, origin.requests(), "one whole request at the origin");
        assertArrayEquals(body, origin.bodies().get(0), "the body as sent");
        assertFalse(origin.heads().get(0).toLowerCase(Locale.ROOT).contains("\r\nexpect:"),
                () -> "the origin is not asked for a 100 that Tollgate already gave: " + origin.heads().get(0));
        AccessRecord row = tollgate.awaitRows(1).get(0);
        Battery.assertRow(row, 200, Outcome.OK);
        assertEquals(body.length, row.bytesFromClient(), "bytes_from_client");
    }

    /** {@code size} bytes of a repeating, position-dependent pattern, so a lost or moved block shows. */
    private static byte[] pattern(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) ('a' + (i / 1000) % 26);
        }
        assertTrue(size > 0);
        return bytes;
    }
}
