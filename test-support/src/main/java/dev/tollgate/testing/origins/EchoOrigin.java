package dev.tollgate.testing.origins;

import dev.tollgate.testing.Poll;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP echo origin for tunnel tests: a {@link RawOrigin} whose script writes back everything it reads. When the
 * peer half-closes (end of stream on read) it has already echoed everything, and shuts down its own output, so
 * that a half-close can be observed end to end (RFC 9112 9.6). Each connection keeps what it saw: bytes read and
 * written, a SHA-256 of the bytes read, and how it ended.
 *
 * <p>{@link #resettingAfter(long)} makes an origin that aborts each connection mid-stream: once it has read and
 * echoed that many bytes, it closes with {@code SO_LINGER} 0, which sends a TCP RST instead of a FIN.
 */
public final class EchoOrigin implements AutoCloseable {

    /** How a connection ended, as the echo origin saw it. */
    public enum Ending {
        /** The peer half-closed; everything was echoed and the origin shut its output. */
        PEER_EOF,
        /** The origin aborted the connection with an RST, as configured. */
        RESET_BY_SERVER,
        /** Reading or writing failed (the peer reset, a timeout, the origin closing). */
        FAILED
    }

    /** One accepted connection. Its fields are final once {@link #finished()} is true. */
    public static final class Connection {
        private final int remotePort;
        private final MessageDigest digest = sha256();
        private volatile long bytesRead;
        private volatile long bytesWritten;
        private volatile Ending ending;
        private volatile String receivedSha256;

        private Connection(int remotePort) {
            this.remotePort = remotePort;
        }

        /** The port the proxy dialled from. */
        public int remotePort() {
            return remotePort;
        }

        public long bytesRead() {
            return bytesRead;
        }

        public long bytesWritten() {
            return bytesWritten;
        }

        /** How the connection ended, or null while it is open. */
        public Ending ending() {
            return ending;
        }

        public boolean finished() {
            return ending != null;
        }

        /** Hex SHA-256 of every byte read, set when the connection has finished. */
        public String receivedSha256() {
            return receivedSha256;
        }

        @Override
        public String toString() {
            return "Connection[from port " + remotePort + ", read " + bytesRead + ", written " + bytesWritten + ", "
                    + ending + "]";
        }
    }

    private final long resetAfterBytes;
    // False for long runs (the soak): a record of every connection would be heap the soak counts as the daemon's.
    private final boolean keepsConnections;
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final RawOrigin origin;

    private EchoOrigin(long resetAfterBytes, boolean keepsConnections) throws IOException {
        this.resetAfterBytes = resetAfterBytes;
        this.keepsConnections = keepsConnections;
        this.origin = RawOrigin.scripted((socket, raw) -> echo(socket));
    }

    /** An echo origin that echoes everything until the peer half-closes. */
    public static EchoOrigin start() throws IOException {
        return new EchoOrigin(Long.MAX_VALUE, true);
    }

    /** As {@link #start()}, keeping no record of finished connections ({@link #connections()} stays empty). */
    public static EchoOrigin startWithoutKeeping() throws IOException {
        return new EchoOrigin(Long.MAX_VALUE, false);
    }

    /**
     * An echo origin that, on each connection, echoes the first {@code bytes} bytes it reads and then aborts the
     * connection with an RST.
     */
    public static EchoOrigin resettingAfter(long bytes) throws IOException {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be at least 1, got " + bytes);
        }
        return new EchoOrigin(bytes, true);
    }

    public int port() {
        return origin.port();
    }

    /** Every connection accepted so far, in order of acceptance. */
    public List<Connection> connections() {
        return List.copyOf(connections);
    }

    /** Polls until at least {@code count} connections have finished, or fails after the deadline. */
    public List<Connection> awaitFinished(int count) throws Exception {
        return Poll.forMatch("at least " + count + " finished echo connections of " + connections,
                () -> connections.stream().filter(Connection::finished).toList(), finished -> finished.size() >= count);
    }

    private void echo(Socket socket) {
        Connection connection = new Connection(socket.getPort());
        if (keepsConnections) {
            connections.add(connection);
        }
        Ending ending = Ending.FAILED;
        try {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[16 * 1024];
            long read = 0;
            while (true) {
                int wanted = (int) Math.min(buffer.length, resetAfterBytes - read);
                int n = in.read(buffer, 0, wanted);
                if (n < 0) {
                    socket.shutdownOutput();
                    ending = Ending.PEER_EOF;
                    break;
                }
                connection.digest.update(buffer, 0, n);
                read += n;
                connection.bytesRead = read;
                out.write(buffer, 0, n);
                out.flush();
                connection.bytesWritten += n;
                if (read >= resetAfterBytes) {
                    socket.setSoLinger(true, 0);
                    ending = Ending.RESET_BY_SERVER;
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            ending = Ending.FAILED;
        } finally {
            // Closed here, before the ending is set, so that a test that sees the ending also sees the close.
            closeQuietly(socket);
            connection.receivedSha256 = HexFormat.of().formatHex(connection.digest.digest());
            connection.ending = ending;
        }
    }

    /** Stops accepting and closes every open connection. Safe to call more than once. */
    @Override
    public void close() throws Exception {
        origin.close();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Already closed or reset: nothing left to release.
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /** The hex SHA-256 of {@code bytes}, to compare with {@link Connection#receivedSha256()}. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }
}
