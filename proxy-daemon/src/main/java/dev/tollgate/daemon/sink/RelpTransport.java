package dev.tollgate.daemon.sink;

import dev.tollgate.daemon.config.SinkConfig;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Syslog over RELP, rsyslog's Reliable Event Logging Protocol (librelp's doc/relp.html; rsyslog's imrelp), one RFC
 * 5424 message per record ({@link SyslogMessage}, without the octet-counting prefix: RELP frames carry their length).
 *
 * <p>Unlike TCP syslog, the receiver answers every {@code syslog} command with a {@code rsp} naming its transaction
 * number, {@code 200 OK} once it has taken the message. {@link #deliver} returns only when every record of the batch
 * has been answered 200; a missing answer (the receiver stopped, crashed, or stalled past the ack timeout) or a refusal
 * fails the whole batch, which the pump sends again: a receiver may get a record twice, never lose one it was sent.
 *
 * <p>A batch goes out in windows of {@value #WINDOW} frames, each window's answers read before the next is sent: under
 * the 128 unanswered transactions that rsyslog's own RELP client (omrelp) allows by default, so a receiver never holds
 * more of ours than it expects, and a window's answers fit in the socket buffers. Plain TCP only: RELP over TLS is
 * refused by {@link SinkConfig}.
 */
public final class RelpTransport implements SinkTransport {

    /** How long a TCP connect may take. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = SyslogTransport.DEFAULT_CONNECT_TIMEOUT;
    /** How long a window of frames may take to be written and answered before the connection is given up. */
    public static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(30);
    /** Frames sent before their answers are read. */
    static final int WINDOW = 100;
    /** The session's offers (relp.html, "open"): protocol version 0, and the one command it uses. */
    private static final String OFFERS = "relp_version=0\nrelp_software=tollgate\ncommands=syslog";
    private static final int OK = 200;
    private static final int BUFFER_BYTES = 64 * 1024;

    private final SinkConfig config;
    private final SyslogMessage messages;
    private final Duration connectTimeout;
    private final Duration ackTimeout;
    private ScheduledExecutorService watchdog;
    /** Volatile, as {@link #close} may come from another thread to break a delivery blocked on the network. */
    private volatile Socket socket;
    private volatile boolean delivering;
    private InputStream in;
    private OutputStream out;
    private int lastTxnr;

    /** A transport for {@code config} (a syslog sink with protocol relp) with the default timeouts. */
    public RelpTransport(SinkConfig config) {
        this(config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ACK_TIMEOUT);
    }

    /** As {@link #RelpTransport(SinkConfig)}, with timeouts of the caller's (tests use short ones). */
    public RelpTransport(SinkConfig config, Duration connectTimeout, Duration ackTimeout) {
        if (!SinkConfig.SYSLOG.equals(config.type()) || !config.relp()) {
            throw new IllegalArgumentException("sink " + config.name() + " is not a syslog sink with protocol relp");
        }
        this.config = config;
        this.connectTimeout = connectTimeout;
        this.ackTimeout = ackTimeout;
        this.messages = new SyslogMessage(config.facilityCode(), config.appName(), SyslogTransport.pid(),
                "sd".equals(config.format()));
    }

    @Override
    public void deliver(List<SinkEvent> events) throws IOException {
        if (socket != null && receiverHasSpoken()) {
            close();
        }
        delivering = true;
        try {
            if (socket == null) {
                open();
            }
            for (int from = 0; from < events.size(); from += WINDOW) {
                sendWindow(events, from, Math.min(from + WINDOW, events.size()));
            }
        } finally {
            delivering = false;
        }
    }

    @Override
    public String target() {
        return "relp://" + address();
    }

    /**
     * Ends the session with a {@code close} command when it is idle, and drops the connection and the watchdog's
     * thread; the next {@link #deliver} opens a new session. Every record sent was answered or its batch failed,
     * so the answer to {@code close} is not waited for. Called by another thread during a delivery (the pump
     * stopping), it only closes the socket, which ends the delivery with an IOException: a write there could wait
     * on the delivery's own blocked write.
     */
    @Override
    public void close() {
        if (!delivering && socket != null && !socket.isClosed()) {
            try {
                out.write(new RelpFrame(nextTxnr(), "close", new byte[0]).encode());
                out.flush();
            } catch (IOException e) {
                // the connection is already gone: closing it is all that is left
            }
        }
        drop();
        if (watchdog != null) {
            watchdog.shutdownNow();
            watchdog = null;
        }
    }

    /**
     * Sends {@code events[from, to)} and reads an answer for each. A watchdog closes the connection when the window
     * has not been answered within the ack timeout: a read has SO_TIMEOUT, but a write to a receiver that stopped
     * reading would block for ever.
     */
    private void sendWindow(List<SinkEvent> events, int from, int to) throws IOException {
        AtomicBoolean timedOut = new AtomicBoolean();
        Socket watched = socket;
        InputStream in = this.in;
        OutputStream out = this.out;
        ScheduledFuture<?> alarm = watchdog().schedule(() -> {
            timedOut.set(true);
            closeQuietly(watched);
        }, ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<Integer, SinkEvent> unanswered = new HashMap<>();
        try {
            if (watched == null) {
                throw new IOException("the transport was closed");
            }
            for (SinkEvent event : events.subList(from, to)) {
                int txnr = nextTxnr();
                out.write(new RelpFrame(txnr, "syslog", messages.message(event)).encode());
                unanswered.put(txnr, event);
            }
            out.flush();
            while (!unanswered.isEmpty()) {
                RelpFrame answer = RelpFrame.read(in);
                SinkEvent event = unanswered.remove(answer.txnr());
                if (!"rsp".equals(answer.command())) {
                    throw new RelpException(target() + " " + ("serverclose".equals(answer.command())
                            ? "closed the session" : "sent '" + answer.command() + "' where an answer belongs"));
                }
                if (event == null) {
                    throw new RelpException(target() + " answered transaction " + answer.txnr() + ", which is not"
                            + " one of ours (a protocol error)");
                }
                if (answer.status() != OK) {
                    throw new RelpException(target() + " refused record " + event.seq() + " ("
                            + answer.statusLine() + ")");
                }
            }
        } catch (IOException e) {
            // No close command: the receiver may have stopped reading, and a write would block.
            drop();
            throw failure(e, timedOut.get(), unanswered.size(), events.size());
        } finally {
            alarm.cancel(false);
        }
    }

    /** One line for the sink's health: what went wrong, how much of the batch is unconfirmed, and what happens. */
    private IOException failure(IOException e, boolean timedOut, int unanswered, int batch) {
        String again = ": the batch of " + batch + " records will be sent again";
        if (timedOut || e instanceof SocketTimeoutException) {
            return new IOException(target() + " did not acknowledge " + unanswered + " records within "
                    + ackTimeout.toSeconds() + " s (ack timeout: it stalled, or is slower than that); connection"
                    + " closed" + again, e);
        }
        if (e instanceof RelpException) {
            return new IOException(e.getMessage() + " with " + unanswered + " records unacknowledged" + again, e);
        }
        if (e instanceof EOFException) {
            return new IOException("connection to " + address() + " closed by the receiver with " + unanswered
                    + " records unacknowledged" + again, e);
        }
        return new IOException("connection to " + address() + " lost with " + unanswered
                + " records unacknowledged (" + e.getMessage() + ")" + again, e);
    }

    /** Connects and opens the session (relp.html, "open"), which the receiver must answer 200. */
    private void open() throws IOException {
        Socket plain = new Socket();
        try {
            plain.setKeepAlive(true);
            plain.connect(new InetSocketAddress(config.host(), config.port()), (int) connectTimeout.toMillis());
            plain.setSoTimeout((int) ackTimeout.toMillis());
            socket = plain;
            in = new BufferedInputStream(plain.getInputStream(), BUFFER_BYTES);
            out = new BufferedOutputStream(plain.getOutputStream(), BUFFER_BYTES);
            lastTxnr = 0;
            int txnr = nextTxnr();
            out.write(new RelpFrame(txnr, "open", OFFERS.getBytes(StandardCharsets.US_ASCII)).encode());
            out.flush();
            RelpFrame answer = RelpFrame.read(in);
            if (answer.txnr() != txnr || !"rsp".equals(answer.command()) || answer.status() != OK) {
                throw new IOException(target() + " refused the RELP session ('" + answer.txnr() + " "
                        + answer.command() + " " + answer.statusLine() + "')");
            }
        } catch (ConnectException e) {
            abandon(plain);
            throw new IOException("connection to " + address() + " refused: is the RELP receiver (rsyslog's imrelp)"
                    + " listening there?", e);
        } catch (SocketTimeoutException e) {
            boolean connected = socket != null;
            abandon(plain);
            throw new IOException("no answer from " + address() + " within " + (connected
                    ? ackTimeout.toSeconds() + " s to the RELP open (is it a RELP port?)"
                    : connectTimeout.toSeconds() + " s (connect timeout)"), e);
        } catch (UnknownHostException e) {
            abandon(plain);
            throw new IOException("cannot resolve the syslog host " + config.host(), e);
        } catch (IOException e) {
            abandon(plain);
            throw new IOException("opening a RELP session with " + address() + " failed: " + e.getMessage(), e);
        }
    }

    private void abandon(Socket plain) {
        closeQuietly(plain);
        drop();
    }

    private void drop() {
        closeQuietly(socket);
        socket = null;
        in = null;
        out = null;
    }

    /**
     * Whether the receiver sent something, or closed, while no transaction was open: a {@code serverclose} (rsyslog
     * stopping or restarting) or end of stream. Either way the session is over; only a read that times out means it
     * is alive. Checking first saves a failed batch after each restart of the receiver.
     */
    private boolean receiverHasSpoken() {
        try {
            socket.setSoTimeout(1);
            in.read();
            return true;
        } catch (SocketTimeoutException alive) {
            try {
                socket.setSoTimeout((int) ackTimeout.toMillis());
                return false;
            } catch (IOException e) {
                return true;
            }
        } catch (IOException e) {
            return true;
        }
    }

    /** relp.html: TXNR counts up from 1 in a session and wraps from {@value RelpFrame#MAX_TXNR} to 1. */
    private int nextTxnr() {
        lastTxnr = lastTxnr == RelpFrame.MAX_TXNR ? 1 : lastTxnr + 1;
        return lastTxnr;
    }

    private String address() {
        return SyslogSockets.address(config);
    }

    private ScheduledExecutorService watchdog() {
        if (watchdog == null) {
            watchdog = SyslogSockets.watchdog(config, "ack");
        }
        return watchdog;
    }

    private static void closeQuietly(Socket socket) {
        SyslogSockets.closeQuietly(socket);
    }

    /** The receiver broke the protocol's promise (refused, closed, answered out of turn): its message is the reason. */
    private static final class RelpException extends IOException {
        RelpException(String message) {
            super(message);
        }
    }
}
