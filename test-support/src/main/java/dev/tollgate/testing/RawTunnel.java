package dev.tollgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A CONNECT (RFC 9110 9.3.6) through a proxy listener on 127.0.0.1 over a plain socket: sends the request head
 * as written, reads the response head one byte at a time (so no tunnel payload is consumed) and, when it was
 * 200, carries payload both ways. What was sent and received is counted, so that a test can compare it with
 * the tunnel's access-log row.
 */
public final class RawTunnel implements AutoCloseable {

    /** How a tunnel ended as the client saw it. */
    public enum Ending {
        /** The proxy half-closed or closed: a read returned end of stream. */
        EOF,
        /** The connection was reset. */
        RESET,
        /** Nothing happened before the read limit: the tunnel is still open. */
        STILL_OPEN
    }

    private final RawHttpConnection connection;
    private final Socket socket;
    private final String head;
    private long bytesSent;
    private long bytesReceived;

    private RawTunnel(RawHttpConnection connection, String head) {
        this.connection = connection;
        this.socket = connection.socket();
        this.head = head;
    }

    /**
     * Sends {@code CONNECT target} with {@code extraHeaders} (each ending in CRLF) and reads the response head,
     * whatever its status.
     */
    public static RawTunnel open(int proxyPort, String target, String extraHeaders) throws IOException {
        RawHttpConnection connection = RawHttpConnection.open(proxyPort);
        try {
            connection.send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n" + extraHeaders + "\r\n");
            return new RawTunnel(connection, RawHttpConnection.readHead(connection.socket().getInputStream()));
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * Sends {@code CONNECT 127.0.0.1:targetPort} to the listener on {@code proxyPort} and reads the answer's
     * head; fails unless it is 200, after which the tunnel carries payload.
     */
    public static RawTunnel established(int proxyPort, int targetPort) throws IOException {
        RawTunnel tunnel = open(proxyPort, "127.0.0.1:" + targetPort, "");
        if (tunnel.status() != 200) {
            tunnel.close();
            throw new AssertionError("CONNECT 127.0.0.1:" + targetPort + " via port " + proxyPort
                    + " was answered: " + tunnel.head());
        }
        return tunnel;
    }

    /**
     * Sends {@code CONNECT 127.0.0.1:targetPort} and returns the status of the answer, for a tunnel that is
     * expected to be refused; the connection is closed afterwards.
     */
    public static int refusedStatus(int proxyPort, int targetPort) throws IOException {
        try (RawTunnel tunnel = open(proxyPort, "127.0.0.1:" + targetPort, "")) {
            return tunnel.status();
        }
    }

    /** The status code of the answer to the CONNECT. */
    public int status() {
        return Integer.parseInt(head.split("\r\n", 2)[0].split(" ", 3)[1]);
    }

    /** The answer's head, status line to blank line. */
    public String head() {
        return head;
    }

    /** Sends {@code text} through the tunnel and reads as many bytes back (the far end is an echo server). */
    public String echo(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(bytes);
        byte[] back = socket.getInputStream().readNBytes(bytes.length);
        bytesReceived += back.length;
        return new String(back, StandardCharsets.UTF_8);
    }

    /** Sends {@code payload} and reads back as many bytes; fails unless they are the same (an echo). */
    public void roundTrip(String payload) throws IOException {
        String echoed = echo(payload);
        if (!payload.equals(echoed)) {
            throw new AssertionError("sent \"" + payload + "\" through the tunnel, got back \"" + echoed + "\"");
        }
    }

    /** Writes {@code bytes} into the tunnel. */
    public void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        bytesSent += bytes.length;
    }

    /** Reads exactly {@code n} bytes from the tunnel (failing at its end). */
    public byte[] readExactly(int n) throws IOException {
        byte[] bytes = socket.getInputStream().readNBytes(n);
        bytesReceived += bytes.length;
        if (bytes.length < n) {
            throw new java.io.EOFException("the tunnel ended after " + bytes.length + " of " + n + " bytes");
        }
        return bytes;
    }

    /** Half-closes: tells the far side that the client has nothing more to send (RFC 9112 9.6). */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Reads until the tunnel ends: end of stream, a reset, or the read limit (then {@link Ending#STILL_OPEN}).
     * Bytes that still arrive are counted as received.
     */
    public Ending awaitEnd() throws IOException {
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
    public long bytesSent() {
        return bytesSent;
    }

    /** Payload bytes read from the tunnel: the row's bytes_to_client. */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** This end's port: the row's client_port. */
    public int localPort() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }
}
