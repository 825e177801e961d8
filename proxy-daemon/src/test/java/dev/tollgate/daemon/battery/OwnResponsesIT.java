package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.EchoOrigin;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Responses Tollgate writes itself, each against the RFC 9110/9112 requirement it once broke (issue #20's
 * audit; docs/reliability.md lists the whole audit, including the responses that were already right).
 */
class OwnResponsesIT {

    @TempDir
    Path dir;

    private RunningTollgate tollgate;

    @AfterEach
    void stop() {
        if (tollgate != null) {
            tollgate.close();
        }
    }

    /** RFC 9110 9.3.6: "A server MUST NOT send any Transfer-Encoding or Content-Length header fields in a 2xx
     * (Successful) response to CONNECT." It used to carry Content-Length: 0. */
    @Test
    void theTwoHundredThatOpensATunnelCarriesNoContentLength() throws Exception {
        try (EchoOrigin echo = EchoOrigin.start()) {
            tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener(echo.port()));
            for (String version : List.of("HTTP/1.1", "HTTP/1.0")) {
                try (Socket client = new Socket(RawHttpConnection.loopback(), tollgate.port())) {
                    client.setSoTimeout(30_000);
                    String target = "127.0.0.1:" + echo.port();
                    client.getOutputStream().write(("CONNECT " + target + " " + version + "\r\nHost: " + target
                            + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    String head = RawHttpConnection.readHead(client.getInputStream());

                    assertTrue(head.startsWith("HTTP/1.1 200"), head);
                    String lower = head.toLowerCase(Locale.ROOT);
                    assertFalse(lower.contains("\r\ncontent-length:"), () -> version + ": " + head);
                    assertFalse(lower.contains("\r\ntransfer-encoding:"), () -> version + ": " + head);
                    assertTrue(lower.contains("\r\ndate:"), head);
                    // The tunnel works: what follows the head is the tunnel's.
                    client.getOutputStream().write("ping".getBytes(StandardCharsets.ISO_8859_1));
                    assertEquals("ping", new String(client.getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1));
                }
            }
        }
    }

    /** RFC 9110 6.6.1: an origin server with a clock MUST send Date in every 4xx; the 408 of
     * requestHeaderTimeoutMs is written past Jetty's generator and had none. */
    @Test
    void theRequestHeaderTimeouts408CarriesADate() throws Exception {
        tollgate = RunningTollgate.start(dir, Battery.loopbackListener(", \"requestHeaderTimeoutMs\": 500"));
        try (RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n");

            RawHttpConnection.Response response = client.readResponse();

            assertEquals(408, response.status());
            assertNotNull(response.header("Date"), () -> "Date in " + response.headers());
            assertTrue(response.header("Date").matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"),
                    () -> "IMF-fixdate (RFC 9110 5.6.7): " + response.header("Date"));
        }
    }

    /** RFC 9110 10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST be ignored; 15.2: no 1xx is sent to
     * an HTTP/1.0 client. Tollgate answered it 100 once it answered expectations itself (when the forwarding first
     * reads the body: here, once the origin has the head and before the client sends its body). */
    @Test
    void anHttp10ClientsExpectationIsIgnoredAndItGetsNo100() throws Exception {
        tollgate = RunningTollgate.start(dir, Battery.loopbackListener(""));
        CountDownLatch headAtOrigin = new CountDownLatch(1);
        try (RawOrigin origin = RawOrigin.scripted((socket, o) -> {
                 String head = RawOrigin.readHead(socket.getInputStream());
                 if (head != null) {
                     headAtOrigin.countDown();
                     byte[] body = socket.getInputStream().readNBytes(5);
                     socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length
                             + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                     socket.getOutputStream().write(body);
                     socket.getOutputStream().flush();
                 }
             });
             RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send("POST " + origin.base() + "/upload HTTP/1.0\r\nContent-Length: 5\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            assertTrue(headAtOrigin.await(30, TimeUnit.SECONDS), "the head is forwarded");
            client.send("hello");

            List<RawHttpConnection.Response> interims = new ArrayList<>();
            RawHttpConnection.Response response = client.readFinalResponse(interims);

            assertEquals(List.of(), interims.stream().map(RawHttpConnection.Response::status).toList(),
                    "no interim response to an HTTP/1.0 client");
            assertEquals(200, response.status());
            assertEquals("hello", response.bodyText());
            Battery.assertRow(Battery.onlyRow(tollgate), 200, Outcome.OK);
        }
    }

    /** RFC 9110 15.5.22: a 426 MUST carry Upgrade; Jetty answered HTTP/2's prior-knowledge preface 426 without it.
     * 505 (RFC 9110 15.6.6) is what this HTTP/1.1-only port means. */
    @Test
    void anHttp2PrefaceIsAnswered505NotA426WithoutUpgrade() throws Exception {
        tollgate = RunningTollgate.start(dir, Battery.loopbackListener(""));
        try (RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

            RawHttpConnection.Response response = client.readResponse();

            assertEquals(505, response.status(), () -> response.headers().toString());
            assertNotNull(response.header("Date"));
            client.awaitClosedByPeer();
            assertEquals(505, Battery.onlyRow(tollgate).status());
        }
    }

    /** RFC 9110 7.6.2: a TRACE or OPTIONS with Max-Forwards: 0 MUST NOT be forwarded; the proxy answers as the
     * final recipient. Tollgate forwarded both. */
    @Test
    void traceWithMaxForwardsZeroIsAnsweredByTollgate405WithAllow() throws Exception {
        RawHttpConnection.Response response = maxForwardsZero("TRACE", 405);
        assertEquals("0", response.header("Content-Length"));
    }

    @Test
    void optionsWithMaxForwardsZeroIsAnsweredByTollgate200WithAllowAndNoContent() throws Exception {
        RawHttpConnection.Response response = maxForwardsZero("OPTIONS", 200);
        // RFC 9110 9.3.7: a 200 to OPTIONS without content MUST say Content-Length: 0.
        assertEquals("0", response.header("Content-Length"));
    }

    /** RFC 9110 7.6.2: an intermediary MUST update Max-Forwards (one less) when it forwards a TRACE or OPTIONS. */
    @Test
    void maxForwardsIsOneLessAtTheOrigin() throws Exception {
        tollgate = RunningTollgate.start(dir, Battery.loopbackListener(""));
        try (RawOrigin origin = RawOrigin.answering();
             RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send("OPTIONS " + origin.base() + "/ HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\nMax-Forwards: 5\r\n\r\n");

            assertEquals(200, client.readResponse().status());
            String head = origin.heads().get(0).toLowerCase(Locale.ROOT);
            assertTrue(head.contains("\r\nmax-forwards: 4\r\n"), head);
        }
    }

    private RawHttpConnection.Response maxForwardsZero(String method, int status) throws Exception {
        tollgate = RunningTollgate.start(dir, Battery.loopbackListener(""));
        try (RawOrigin origin = RawOrigin.answering();
             RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            client.send(method + " " + origin.base() + "/ HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\nMax-Forwards: 0\r\n\r\n");

            RawHttpConnection.Response response = client.readResponse();

            assertEquals(status, response.status(), response::bodyText);
            assertEquals("OPTIONS", response.header("Allow"), "Allow: what this proxy itself allows (a 405 MUST carry it,"
                    + " RFC 9110 15.5.6)");
            assertNotNull(response.header("Date"));
            assertEquals(0, origin.connections(), "not forwarded");
            AccessRecord row = Battery.onlyRow(tollgate);
            Battery.assertRow(row, status, Outcome.OK);
            assertEquals(null, row.upstreamAddr());
            Battery.assertReusable(client, origin);
            return response;
        }
    }

}
