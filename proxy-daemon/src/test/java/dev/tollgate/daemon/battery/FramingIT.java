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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Framing and request smuggling (issue #10): each malformed request goes over a raw socket to a running
 * Tollgate whose listener keeps Jetty's parser in its default, strict RFC 9110/9112 compliance mode. A
 * rejected request is answered 400, its connection is closed (after a framing error nothing that follows on
 * the connection can be trusted, RFC 9112 6.3 and 11.2), nothing reaches the origin, and it leaves exactly one
 * BAD_REQUEST row. A request that is fine is forwarded and its connection stays usable.
 */
class FramingIT {

    @TempDir
    Path dir;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();

    private RawOrigin origin;
    private RunningTollgate tollgate;

    @BeforeEach
    void start() throws Exception {
        origin = closed.add(RawOrigin.answering());
        tollgate = closed.add(RunningTollgate.start(dir, RunningTollgate.loopbackListener()));
    }

    // ---- message length: RFC 9112 6.1-6.3 -------------------------------------------------------------------

    @Test
    void contentLengthWithTransferEncodingIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void transferEncodingBeforeContentLengthIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + "5\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void twoDifferingContentLengthsAreRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: 5\r\nContent-Length: 6\r\n") + "hello!");
    }

    /** RFC 9110 8.6 lets a recipient accept identical duplicates; Tollgate (Jetty, strict) rejects them. */
    @Test
    void duplicateIdenticalContentLengthsAreRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: 5\r\nContent-Length: 5\r\n") + "hello");
    }

    @Test
    void contentLengthListInOneFieldIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: 5, 5\r\n") + "hello");
    }

    /** Squid's CVE-2020-15049: a "+5" read as 5 by one hop and as invalid by another. */
    @Test
    void plusSignedContentLengthIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: +5\r\n") + "hello");
    }

    @Test
    void negativeContentLengthIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: -5\r\n") + "hello");
    }

    @Test
    void nonDigitContentLengthIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: 5x\r\n") + "hello");
    }

    @Test
    void hexContentLengthIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Content-Length: 0x5\r\n") + "hello");
    }

    /** RFC 9112 6.3: a request whose final transfer coding is not chunked has no knowable length: 400. */
    @Test
    void transferEncodingThatDoesNotEndInChunkedIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Transfer-Encoding: chunked, identity\r\n") + "5\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void unknownTransferEncodingIsRejected() throws Exception {
        rejectedBeforeForwarding(post("Transfer-Encoding: xchunked\r\n") + "5\r\nhello\r\n0\r\n\r\n");
    }

    /** RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing. */
    @Test
    void transferEncodingOnHttp10IsRejected() throws Exception {
        rejectedBeforeForwarding("POST " + origin.base() + "/upload HTTP/1.0\r\nHost: 127.0.0.1:" + origin.port()
                + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    }

    // ---- chunked bodies: RFC 9112 7.1 -----------------------------------------------------------------------

    @Test
    void chunkSizeThatIsNotHexIsRejected() throws Exception {
        rejectedInTheBody(post("Transfer-Encoding: chunked\r\n") + "zz\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void chunkSizeThatOverflowsIsRejected() throws Exception {
        rejectedInTheBody(post("Transfer-Encoding: chunked\r\n") + "1ffffffffffffffff\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void chunkDataLongerThanItsSizeIsRejected() throws Exception {
        rejectedInTheBody(post("Transfer-Encoding: chunked\r\n") + "3\r\nhello\r\n0\r\n\r\n");
    }

    /** CVE-2023-46846's class: a chunk-size line ended by a bare LF. */
    @Test
    void chunkSizeEndedByBareLfIsRejected() throws Exception {
        rejectedInTheBody(post("Transfer-Encoding: chunked\r\n") + "5\nhello\r\n0\r\n\r\n");
    }

    @Test
    void chunkExtensionWithBareLfIsRejected() throws Exception {
        rejectedInTheBody(post("Transfer-Encoding: chunked\r\n") + "5;ext\nx\r\nhello\r\n0\r\n\r\n");
    }

    /** A well-formed chunk extension (RFC 9112 7.1.1) is ignored: the body is forwarded whole. */
    @Test
    void wellFormedChunkExtensionIsIgnoredAndTheBodyForwarded() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(post("Transfer-Encoding: chunked\r\n") + "5;name=\"value\"\r\nhello\r\n0\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status());
            assertEquals(1, origin.requests());
            assertEquals("hello", new String(origin.bodies().get(0), StandardCharsets.ISO_8859_1));
            assertFalse(origin.heads().get(0).contains("name="), "chunk extensions are not passed on");
            Battery.assertReusable(connection, origin);
        }
        Battery.assertRow(tollgate.awaitRows(2).get(0), 200, Outcome.OK);
    }

    // ---- header fields: RFC 9110 5, RFC 9112 5 --------------------------------------------------------------

    /** RFC 9112 5.2: obs-fold in a request is rejected (or replaced by SP; Tollgate rejects). */
    @Test
    void obsFoldIsRejected() throws Exception {
        rejectedBeforeForwarding(get("X-Folded: one\r\n two\r\n"));
    }

    /** RFC 9112 5.1: no whitespace between a field name and its colon; CVE-2020-15810's class. */
    @Test
    void whitespaceBeforeTheColonIsRejected() throws Exception {
        rejectedBeforeForwarding(get("Content-Length : 0\r\n"));
    }

    @Test
    void bareCrInAFieldIsRejected() throws Exception {
        rejectedBeforeForwarding(get("X-Bare: one\rtwo\r\n"));
    }

    @Test
    void bareCrEndingTheRequestLineIsRejected() throws Exception {
        rejectedBeforeForwarding("GET " + origin.base() + "/x HTTP/1.1\rHost: 127.0.0.1:" + origin.port()
                + "\r\n\r\n");
    }

    /** RFC 9112 2.2 says a recipient MAY accept a bare LF; the strict parser does not. */
    @Test
    void bareLfLineEndsAreRejected() throws Exception {
        rejectedBeforeForwarding("GET " + origin.base() + "/x HTTP/1.1\nHost: 127.0.0.1:" + origin.port() + "\n\n");
    }

    @Test
    void nulInAFieldValueIsRejected() throws Exception {
        rejectedBeforeForwarding(get("X-Nul: one\0two\r\n"));
    }

    @Test
    void nulInAFieldNameIsRejected() throws Exception {
        rejectedBeforeForwarding(get("X-N\0ul: one\r\n"));
    }

    @Test
    void nulInTheRequestTargetIsRejected() throws Exception {
        rejectedBeforeForwarding("GET " + origin.base() + "/x\0y HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                + "\r\n\r\n");
    }

    @Test
    void emptyFieldNameIsRejected() throws Exception {
        rejectedBeforeForwarding(get(": no-name\r\n"));
    }

    @Test
    void fieldWithoutAColonIsRejected() throws Exception {
        rejectedBeforeForwarding(get("X-No-Colon\r\n"));
    }

    /** RFC 9110 7.2: a request with more than one Host field is rejected 400. */
    @Test
    void twoHostFieldsAreRejected() throws Exception {
        rejectedBeforeForwarding("GET " + origin.base() + "/x HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                + "\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n");
    }

    // ---- the target: RFC 9112 3.2.2 -------------------------------------------------------------------------

    /**
     * RFC 9112 3.2.2: a proxy given an absolute URI ignores Host and replaces it with the URI's authority. So the
     * URI wins, and the origin sees a Host that agrees with the URI: no two hops can read the target differently.
     */
    @Test
    void absoluteUriWhoseHostDiffersFromHostGoesWhereTheUriSays() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET " + origin.base() + "/x HTTP/1.1\r\nHost: elsewhere.invalid:8080\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status(), response::bodyText);
            Battery.assertReusable(connection, origin);
        }
        String head = origin.heads().get(0);
        assertTrue(head.contains("\r\nHost: 127.0.0.1:" + origin.port() + "\r\n"), head);
        assertFalse(head.contains("elsewhere"), head);
        AccessRecord row = tollgate.awaitRows(2).get(0);
        Battery.assertRow(row, 200, Outcome.OK);
        assertEquals("127.0.0.1", row.host());
        assertEquals(origin.port(), row.port());
    }

    /** Without a Host to disagree, the URI decides, and the Host sent upstream is the URI's authority. */
    @Test
    void absoluteUriWithoutHostIsForwardedWithTheUrisAuthorityAsHost() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET " + origin.base() + "/x HTTP/1.0\r\n\r\n");

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status(), response::bodyText);
            connection.awaitClosedByPeer();
        }
        assertEquals(1, origin.requests());
        String head = origin.heads().get(0);
        assertTrue(head.contains("\r\nHost: 127.0.0.1:" + origin.port() + "\r\n"), head);
        AccessRecord row = Battery.onlyRow(tollgate);
        Battery.assertRow(row, 200, Outcome.OK);
        assertEquals("127.0.0.1", row.host());
        assertEquals(origin.port(), row.port());
    }

    /**
     * Hosts Jetty's parser lets through but java.net.URI, which Jetty's HttpClient builds the origin request from,
     * reads as no host: a one-line 400 with its row, never dialled. Before, Jetty's HTML 500 page naming the
     * exception, and a WARN with a stack trace in the daemon's log for each such request.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a_b.example", "-a.example", "a-.example", "a..example", "1.2.3.-4", "127.1"})
    void aTargetHostJavaCannotReadIsRefusedWithOneLine(String host) throws Exception {
        RawHttpConnection.Response response;
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send("GET http://" + host + ":" + origin.port() + "/x HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            response = connection.readResponse();
        }
        assertEquals(400, response.status(), response::bodyText);
        assertTrue(response.bodyText().contains("authority is not a host"), response.bodyText());
        assertFalse(response.bodyText().contains("<html"), response.bodyText());
        AccessRecord row = Battery.onlyRow(tollgate);
        Battery.assertRow(row, 400, Outcome.BAD_REQUEST);
        assertEquals(0, origin.connections(), "nothing may reach the origin");
    }

    /** The control case: a well-formed request is forwarded and its connection reused. */
    @Test
    void wellFormedRequestWithBodyIsForwardedAndTheConnectionReused() throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(post("Content-Length: 5\r\n") + "hello");

            assertEquals(200, connection.readResponse().status());
            assertEquals("hello", new String(origin.bodies().get(0), StandardCharsets.ISO_8859_1));
            Battery.assertReusable(connection, origin);
        }
        Battery.assertRow(tollgate.awaitRows(2).get(0), 200, Outcome.OK);
    }

    // ---- the checks ---------------------------------------------------------------------------------------

    private String get(String fields) {
        return "GET " + origin.base() + "/x HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n" + fields + "\r\n";
    }

    private String post(String fields) {
        return "POST " + origin.base() + "/upload HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n" + fields
                + "\r\n";
    }

    /** A fault in the head: 400, connection closed, not one byte to the origin, one BAD_REQUEST row. */
    private AccessRecord rejectedBeforeForwarding(String request) throws Exception {
        AccessRecord row = rejected(request);
        assertEquals(0, origin.connections(), "nothing may reach the origin");
        assertNull(row.upstreamAddr(), () -> "nothing was dialled: " + row);
        return row;
    }

    /**
     * A fault in a chunked body, which the parser meets only once the head has been handed on: the request
     * may have been started upstream, but the origin never receives it whole (so nothing is smuggled), and
     * the client is answered 400 on a closed connection.
     */
    private AccessRecord rejectedInTheBody(String request) throws Exception {
        AccessRecord row = rejected(request);
        assertEquals(0, origin.requests(), "no request may reach the origin whole");
        return row;
    }

    private AccessRecord rejected(String request) throws Exception {
        try (RawHttpConnection connection = RawHttpConnection.open(tollgate.port())) {
            connection.send(request);

            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(400, response.status(), response::bodyText);
            connection.awaitClosedByPeer();
        }
        AccessRecord row = Battery.onlyRow(tollgate);
        Battery.assertRow(row, 400, Outcome.BAD_REQUEST);
        return row;
    }
}
