package dev.tollgate.daemon.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.daemon.config.SinkConfig;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.receivers.RsyslogServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The RELP transport against a real rsyslog (Debian's rsyslogd with imrelp, started by {@link RsyslogServer}) and,
 * for receivers that misbehave, a bare socket speaking just enough RELP. What these show and TCP syslog cannot:
 * a delivery that returned is in the receiver's output, even when the receiver is stopped in the middle of a stream.
 */
class RelpTransportIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T0 = Instant.parse("2026-12-06T15:10:00.123Z");
    private static final int BATCH = 2_000;

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();
    @TempDir
    Path dir;

    @Test
    void relpDeliversEachRecordOnceInOrderInWindowsOfAcknowledgedFrames() throws Exception {
        RsyslogServer rsyslog = closed.add(RsyslogServer.relp(dir.resolve("rsyslog")));
        RelpTransport transport = closed.add(new RelpTransport(relp(rsyslog.port())));
        // More than one window (100 frames), and a second batch on the same session.
        List<SinkEvent> first = events(1, 250);
        List<SinkEvent> second = events(251, 3);

        transport.deliver(first);
        transport.deliver(second);
        List<RsyslogServer.Message> received = rsyslog.awaitMessages(253);

        assertEquals(253, received.size(), "each record once");
        for (int i = 0; i < received.size(); i++) {
            SinkEvent sent = i < 250 ? first.get(i) : second.get(i - 250);
            RsyslogServer.Message message = received.get(i);
            assertEquals(String.valueOf(sent.seq()), message.sd().get("tollgate@32473").get("seq"), "in order");
            assertEquals(JSON.readTree(sent.json()), JSON.readTree(message.msgJson()));
            assertEquals(new String(new SyslogMessage(16, "tollgate", SyslogTransport.pid(), false).message(sent),
                    StandardCharsets.UTF_8), message.raw(), "the RFC 5424 message, without octet counting");
        }
        assertEquals("relp://127.0.0.1:" + rsyslog.port(), transport.target());
    }

    /**
     * The bug RELP fixes: over TCP syslog a batch "delivered" into rsyslog's socket buffer just before it stops is
     * lost. Here batches go out back to back while rsyslog is stopped (SIGTERM): the batch in flight must fail, and
     * every batch that returned must be in what rsyslog wrote.
     */
    @Test
    void receiverStoppedMidStreamFailsTheBatchInFlightAndHasEveryAcknowledgedRecord() throws Exception {
        RsyslogServer rsyslog = closed.add(RsyslogServer.relp(dir.resolve("rsyslog")));
        RelpTransport transport = closed.add(new RelpTransport(relp(rsyslog.port())));
        List<Long> acknowledged = new CopyOnWriteArrayList<>();
        AtomicReference<IOException> failure = new AtomicReference<>();
        AtomicReference<List<SinkEvent>> failedBatch = new AtomicReference<>();
        Thread sender = new Thread(() -> {
            for (long seq = 1; seq < 10_000_000; seq += BATCH) {
                List<SinkEvent> batch = events(seq, BATCH);
                try {
                    transport.deliver(batch);
                } catch (IOException e) {
                    failure.set(e);
                    failedBatch.set(batch);
                    return;
                }
                batch.forEach(e -> acknowledged.add(e.seq()));
            }
        }, "relp-sender");
        sender.start();
        Poll.until(() -> acknowledged.size() + " records acknowledged", Poll.DEADLINE,
                () -> acknowledged.size() >= 4 * BATCH);

        rsyslog.stop();
        sender.join(Poll.DEADLINE.toMillis());

        assertNotNull(failure.get(), "the delivery under way when rsyslog stopped failed instead of returning");
        Set<Long> stored = seqs(rsyslog.messages());
        Set<Long> lost = new TreeSet<>(acknowledged);
        lost.removeAll(stored);
        assertEquals(Set.of(), lost, "acknowledged records rsyslog did not write (" + acknowledged.size()
                + " acknowledged; the failure: " + failure.get().getMessage() + ")");

        rsyslog.restart();
        long next = failedBatch.get().get(0).seq();
        transport.deliver(failedBatch.get());
        transport.deliver(events(next + BATCH, 10));
        long last = next + BATCH + 9;
        Set<Long> all = seqs(Poll.forMatch("every record after the restart", Poll.DEADLINE, rsyslog::messages,
                m -> seqs(m).size() == last));
        assertEquals(last, all.size(), "1 to " + last + ", duplicates only of the batch in flight");
        System.out.printf("RELP across an rsyslog stop: %d acknowledged before it, the failure: %s%n",
                acknowledged.size(), failure.get().getMessage());
    }

    /**
     * The same without rsyslog's timing: a receiver that answers the first records of a batch and then goes away (a
     * crash) fails the batch, although every byte of it was written.
     */
    @Test
    void receiverThatGoesAwayWithRecordsUnansweredFailsTheBatch() throws Exception {
        // TXNR 1 is the open: the first two records are answered, then the connection is closed.
        FakeReceiver crashing = closed.add(new FakeReceiver(txnr -> txnr <= 3 ? "200 OK" : GO_AWAY));
        RelpTransport transport = closed.add(new RelpTransport(relp(crashing.port())));

        IOException lost = assertThrows(IOException.class, () -> transport.deliver(events(1, 5)));

        assertEquals("connection to 127.0.0.1:" + crashing.port() + " closed by the receiver with 3 records"
                + " unacknowledged: the batch of 5 records will be sent again", lost.getMessage());
    }

    @Test
    void receiverThatNeverAnswersFailsDeliveryAtTheAckTimeoutInsteadOfHanging() throws Exception {
        FakeReceiver silent = closed.add(new FakeReceiver(txnr -> null));
        RelpTransport transport = closed.add(new RelpTransport(relp(silent.port()), Duration.ofSeconds(2),
                Duration.ofSeconds(1)));

        IOException timedOut = assertTimeoutPreemptively(Poll.DEADLINE,
                () -> assertThrows(IOException.class, () -> transport.deliver(events(1, 3))));

        assertEquals("relp://127.0.0.1:" + silent.port() + " did not acknowledge 3 records within 1 s (ack timeout:"
                + " it stalled, or is slower than that); connection closed: the batch of 3 records will be sent"
                + " again", timedOut.getMessage());
    }

    /**
     * The pump stops (SinkPump.close) while a delivery is blocked writing to a receiver that stopped reading: the
     * transport's close, from the stopping thread, must end the delivery at once, not wait for the ack timeout.
     */
    @Test
    void closeFromAnotherThreadEndsADeliveryBlockedWritingToAReceiverThatStoppedReading() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        FakeReceiver stuck = closed.add(new FakeReceiver(txnr -> {
            released.await();
            return null;
        }));
        closed.add(released::countDown);
        RelpTransport transport = new RelpTransport(relp(stuck.port()), Duration.ofSeconds(2), Duration.ofMinutes(10));
        List<SinkEvent> large = events(1, 100, "/" + "x".repeat(100 * 1024));
        AtomicReference<Object> ended = new AtomicReference<>();
        Thread pump = new Thread(() -> {
            try {
                transport.deliver(large);
                ended.set("returned");
            } catch (IOException e) {
                ended.set(e);
            }
        }, "relp-pump");
        pump.start();
        Poll.until("the delivery blocked in a socket write", Poll.DEADLINE, () -> Arrays.stream(pump.getStackTrace())
                .anyMatch(f -> f.getMethodName().contains("write") && f.getClassName().contains("Socket")));

        assertTimeoutPreemptively(Poll.DEADLINE, () -> {
            transport.close();
            pump.join();
        });

        assertTrue(ended.get() instanceof IOException, "the delivery failed: " + ended.get());
    }

    @Test
    void receiverThatRefusesARecordFailsTheBatchNamingIt() throws Exception {
        // The second syslog frame (TXNR 3, after the open) is refused.
        FakeReceiver refusing = closed.add(new FakeReceiver(txnr -> txnr == 3 ? "500 queue full" : "200 OK"));
        RelpTransport transport = closed.add(new RelpTransport(relp(refusing.port())));

        IOException refused = assertThrows(IOException.class, () -> transport.deliver(events(1, 3)));

        assertTrue(refused.getMessage().startsWith("relp://127.0.0.1:" + refusing.port() + " refused record 2 (500"
                + " queue full) with "), refused.getMessage());
        assertTrue(refused.getMessage().endsWith(": the batch of 3 records will be sent again"),
                refused.getMessage());
    }

    @Test
    void receiverNotListeningFailsSayingSo() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        RelpTransport transport = closed.add(new RelpTransport(relp(port)));

        IOException refused = assertThrows(IOException.class, () -> transport.deliver(events(1, 1)));

        assertEquals("connection to 127.0.0.1:" + port + " refused: is the RELP receiver (rsyslog's imrelp) listening"
                + " there?", refused.getMessage());
    }

    /** A {@link FakeReceiver}'s answer to the syslog frame of a TXNR; it may block (a receiver that stops reading). */
    @FunctionalInterface
    private interface Answer {
        String apply(int txnr) throws InterruptedException;
    }

    /** What a {@link FakeReceiver}'s answer function returns to close the connection instead of answering. */
    private static final String GO_AWAY = "(close)";

    /**
     * A RELP receiver on a bare socket: answers the open with 200, then each syslog frame with what {@code status}
     * says for its TXNR, not at all when it says null, or closes the connection when it says {@link #GO_AWAY}.
     */
    private static final class FakeReceiver implements AutoCloseable {
        private final ServerSocket server;
        private final Thread thread;

        FakeReceiver(Answer status) throws IOException {
            server = new ServerSocket();
            server.setReceiveBufferSize(4096);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            thread = new Thread(() -> serve(status), "fake-relp-receiver");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve(Answer status) {
            try (Socket client = server.accept()) {
                InputStream in = new BufferedInputStream(client.getInputStream());
                OutputStream out = client.getOutputStream();
                while (true) {
                    RelpFrame frame = RelpFrame.read(in);
                    String answer = frame.command().equals("open") ? "200 OK" : status.apply(frame.txnr());
                    if (GO_AWAY.equals(answer)) {
                        return;
                    }
                    if (answer != null) {
                        out.write(new RelpFrame(frame.txnr(), "rsp", answer.getBytes(StandardCharsets.US_ASCII))
                                .encode());
                        out.flush();
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client went, or the test closed the server: done
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static Set<Long> seqs(List<RsyslogServer.Message> messages) {
        Set<Long> seqs = new TreeSet<>();
        for (RsyslogServer.Message m : messages) {
            seqs.add(Long.parseLong(m.sd().get("tollgate@32473").get("seq")));
        }
        return seqs;
    }

    private static SinkConfig relp(int port) {
        return new SinkConfig("siem", SinkConfig.SYSLOG, null, null, "127.0.0.1", port, SinkConfig.RELP, null, null,
                null, null, null, null, null, null, null, null, null);
    }

    private static List<SinkEvent> events(long firstSeq, int count) {
        return events(firstSeq, count, "/r");
    }

    private static List<SinkEvent> events(long firstSeq, int count, String path) {
        List<SinkEvent> events = new ArrayList<>(count);
        for (long seq = firstSeq; seq < firstSeq + count; seq++) {
            AccessRecord record = new AccessRecord(null, T0.plusMillis(seq).toEpochMilli(), 12, "gw-1", "main",
                    "10.0.0.7", 40_000, null, Kind.FORWARD, "HTTP/1.1", "GET", "example.com", 80, path + "?seq=" + seq,
                    200, 100, 2_000, "93.184.216.34:80", null, Outcome.OK, null, null, null, null);
            events.add(SinkEvent.access(seq, "%064x".formatted(seq), record));
        }
        return events;
    }
}
