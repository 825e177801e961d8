package dev.tollgate.daemon.adminops;

import dev.tollgate.daemon.RawHttpConnection;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A CONNECT tunnel (RFC 9110 9.3.6) through a proxy listener on 127.0.0.1, over a plain socket, to an echo
 * server: what was sent and received is counted, so that a test can compare it with the tunnel's access-log
 * row.
 */
final class ProxyTunnel implements AutoCloseable {

    /** Every read gives up after this long, so that a broken tunnel fails a test instead of hanging it. */
    static final int READ_LIMIT_MS = 30_000;

    /** How a tunnel ended as the client saw it. */
    enum Ending {
        /** The proxy half-closed or closed: a read returned end of stream. */
        EOF,
        /** The connection was reset. */
        RESET,
        /** Nothing happened before the read limit: the tunnel is still open. */
        STILL_OPEN
    }

    private final Socket socket;
    private long bytesSent;
    private long bytesReceived;

    private ProxyTunnel(Socket socket) {
        this.socket = socket;
    }

    /** 127.0.0.1, whatever the JVM's IPv6 preference. */
    static InetAddress loopback() throws IOException {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    }

    /**
     * Sends {@code CONNECT 127.0.0.1:targetPort} to the listener on {@code proxyPort} and reads the answer's
     * head; fails unless it is 200, after which the socket carries payload.
     */
    static ProxyTunnel open(int proxyPort, int targetPort) throws IOException {
        Socket socket = connect(proxyPort);
        try {
            String target = "127.0.0.1:" + targetPort;
            socket.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String head = RawHttpConnection.readHead(socket.getInputStream());
            if (statusOf(head) != 200) {
                throw new AssertionError("CONNECT " + target + " via port " + proxyPort + " was answered: " + head);
            }
            return new ProxyTunnel(socket);
        } catch (IOException | RuntimeException | AssertionError e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Sends {@code CONNECT 127.0.0.1:targetPort} and returns the status of the answer, for a tunnel that is
     * expected to be refused; the connection is closed afterwards.
     */
    static int refusedStatus(int proxyPort, int targetPort) throws IOException {
        try (Socket socket = connect(proxyPort)) {
            String target = "127.0.0.1:" + targetPort;
            socket.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return statusOf(RawHttpConnection.readHead(socket.getInputStream()));
        }
    }

    /** Whether a TCP connection to 127.0.0.1:{@code port} is refused now (nothing listens there). */
    static boolean connectionRefused(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(loopback(), port), READ_LIMIT_MS);
            return false;
        } catch (ConnectException refused) {
            return true;
        }
    }

    /** Sends {@code payload} and reads back as many bytes; fails unless they are the same (an echo). */
    void roundTrip(String payload) throws IOException {
        byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        bytesSent += bytes.length;
        byte[] echoed = socket.getInputStream().readNBytes(bytes.length);
        bytesReceived += echoed.length;
        if (!Arrays.equals(bytes, echoed)) {
            throw new AssertionError("sent \"" + payload + "\" through the tunnel, got back \""
                    + new String(echoed, StandardCharsets.UTF_8) + "\"");
        }
    }

    /** Half-closes: tells the far side that the client has nothing more to send (RFC 9112 9.6). */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Reads until the tunnel ends: end of stream, a reset, or the read limit (then {@link Ending#STILL_OPEN}).
     * Bytes that still arrive are counted as received.
     */
    Ending awaitEnd() throws IOException {
        byte[] buffer = new byte[8192];
        InputStream in = socket.getInputStream();
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                bytesReceived += n;
            }
            return Ending.EOF;
        } catch (SocketTimeoutException timeout) {
            return Ending.STILL_OPEN;
        } catch (SocketException reset) {
            return Ending.RESET;
        }
    }

    /** Payload bytes written into the tunnel: the row's bytes_from_client. */
    long bytesSent() {
        return bytesSent;
    }

    /** Payload bytes read from the tunnel: the row's bytes_to_client. */
    long bytesReceived() {
        return bytesReceived;
    }

    /** This end's port: the row's client_port. */
    int localPort() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static Socket connect(int proxyPort) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setSoTimeout(READ_LIMIT_MS);
            socket.connect(new InetSocketAddress(loopback(), proxyPort), READ_LIMIT_MS);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }


    private static int statusOf(String head) {
        return Integer.parseInt(head.split("\r\n", 2)[0].split(" ", 3)[1]);
    }
}
