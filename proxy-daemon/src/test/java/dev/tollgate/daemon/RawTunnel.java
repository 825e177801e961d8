package dev.tollgate.daemon;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A CONNECT over a plain socket: sends the request head as written, reads the response head one byte at a time
 * (so no tunnel payload is consumed) and, when it was 200, carries payload both ways.
 */
final class RawTunnel implements AutoCloseable {

    /** A safety net so that a hung exchange fails the test instead of hanging the build; not a timing check. */
    private static final int READ_LIMIT_MS = 30_000;

    private final Socket socket;
    private final String head;

    private RawTunnel(Socket socket, String head) {
        this.socket = socket;
        this.head = head;
    }

    /** Sends {@code CONNECT target} with {@code extraHeaders} (each ending in CRLF) and reads the response head. */
    static RawTunnel open(int proxyPort, String target, String extraHeaders) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setSoTimeout(READ_LIMIT_MS);
            socket.connect(new InetSocketAddress(RawHttpConnection.loopback(), proxyPort), READ_LIMIT_MS);
            socket.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
                    + extraHeaders + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return new RawTunnel(socket, RawHttpConnection.readHead(socket.getInputStream()));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    int status() {
        return Integer.parseInt(head.split("\r\n", 2)[0].split(" ", 3)[1]);
    }

    String head() {
        return head;
    }

    /** Sends {@code text} through the tunnel and reads as many bytes back (the far end is an echo server). */
    String echo(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        byte[] back = socket.getInputStream().readNBytes(bytes.length);
        return new String(back, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

}
