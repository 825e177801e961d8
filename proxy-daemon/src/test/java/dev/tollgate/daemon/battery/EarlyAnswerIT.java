package dev.tollgate.daemon.battery;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.RawOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An origin may answer before the request body has arrived and stop reading it (RFC 9112 9.6): a 413 for an
 * upload it will not take, a 401 before the upload. The client gets that answer whole, and its row records the
 * origin's answer, not the failure to send the rest of the body that follows when the origin closes.
 */
class EarlyAnswerIT {

    private static final int BODY_BYTES = 1024 * 1024;
    private static final int SENT_BEFORE_THE_ANSWER = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void anOriginThatAnswersMidUploadAndClosesIsRecordedWithItsAnswer() throws Exception {
        CountDownLatch answerReadByClient = new CountDownLatch(1);
        try (RunningTollgate tollgate = RunningTollgate.start(dir, Battery.loopbackListener(""));
             RawOrigin origin = RawOrigin.scripted((socket, o) -> {
                 if (RawOrigin.readHead(socket.getInputStream()) == null) {
                     return;
                 }
                 OutputStream out = socket.getOutputStream();
                 out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
                         + "too big\n").getBytes(StandardCharsets.ISO_8859_1));
                 out.flush();
                 awaitQuietly(answerReadByClient);
                 // Closed with the body unread: the kernel resets the connection, and the proxy's next write fails.
                 socket.setSoLinger(true, 0);
             });
             RawHttpConnection client = RawHttpConnection.open(tollgate.port())) {
            byte[] part = new byte[SENT_BEFORE_THE_ANSWER];
            Arrays.fill(part, (byte) 'x');
            client.send("POST " + origin.base() + "/upload HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + BODY_BYTES + "\r\n\r\n");
            client.send(new String(part, StandardCharsets.ISO_8859_1));

            RawHttpConnection.Response response = client.readResponse();
            answerReadByClient.countDown();
            sendRestQuietly(client, part);

            assertEquals(413, response.status());
            assertTrue(response.complete());
            assertEquals("too big\n", response.bodyText());
            Battery.assertRow(Battery.onlyRow(tollgate), 413, Outcome.OK);
        }
    }

    /** The rest of the body, for as long as the proxy takes it: it may close the connection at any point. */
    private static void sendRestQuietly(RawHttpConnection client, byte[] part) {
        String text = new String(part, StandardCharsets.ISO_8859_1);
        try {
            for (int sent = SENT_BEFORE_THE_ANSWER; sent < BODY_BYTES; sent += part.length) {
                client.send(text);
            }
        } catch (IOException closedByProxy) {
            // Expected once the proxy has finished the exchange.
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
