package dev.tollgate.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One client connection to 127.0.0.1 over a plain socket, for requests on the wire exactly as a test writes
 * them (absolute-form, origin-form, HTTP/1.0, malformed) and for reading responses without a client library
 * that would hide a truncated body or a closed connection.
 */
public final class RawHttpConnection implements AutoCloseable {

    /** A safety net so that a hung exchange fails the test instead of hanging the build; not a timing check. */
    private static final int READ_LIMIT_MS = 30_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttpConnection(Socket socket) throws IOException {
        this(socket, new BufferedInputStream(socket.getInputStream()), socket.getOutputStream());
    }

    private RawHttpConnection(Socket socket, InputStream in, OutputStream out) {
        this.socket = socket;
        this.in = in;
        this.out = out;
    }

    /** Connects to 127.0.0.1:{@code port}. */
    public static RawHttpConnection open(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(loopback(), port), READ_LIMIT_MS);
            socket.setSoTimeout(READ_LIMIT_MS);
            return new RawHttpConnection(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Connects to 127.0.0.1:{@code port} from the loopback address {@code local} (any of 127.0.0.0/8 on Linux), so
     * that one test can be many clients.
     */
    public static RawHttpConnection openFrom(InetAddress local, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.bind(new InetSocketAddress(local, 0));
            socket.connect(new InetSocketAddress(loopback(), port), READ_LIMIT_MS);
            socket.setSoTimeout(READ_LIMIT_MS);
            return new RawHttpConnection(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** 127.0.0.1, whatever the JVM's IPv6 preference. */
    public static InetAddress loopback() throws IOException {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    }

    /**
     * A request head for {@code method target} with the given Host and {@code extraHeaders} (each a whole field
     * line without its CRLF), no body, ending with {@code Connection: close}.
     */
    public static String head(String method, String target, String host, String... extraHeaders) {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String header : extraHeaders) {
            head.append(header).append("\r\n");
        }
        return head.append("Connection: close\r\n\r\n").toString();
    }

    /**
     * Sends {@code request} (ISO-8859-1, as written) to 127.0.0.1:{@code port} on a connection of its own and
     * reads the one response to it; the connection is closed afterwards.
     */
    public static Response exchange(int port, String request) throws IOException {
        try (RawHttpConnection connection = open(port)) {
            connection.send(request);
            return connection.readResponse();
        }
    }

    /**
     * {@code GET url} in absolute form through the proxy listener on 127.0.0.1:{@code proxyPort}, on a
     * connection of its own that the request closes, so that the exchange, and its access record, is over when
     * the answer has been read.
     */
    public static Response getVia(int proxyPort, String url) throws IOException {
        return exchange(proxyPort, head("GET", url, URI.create(url).getRawAuthority()));
    }

    /** As {@link #getVia}, a {@code POST url} with {@code text} as its text/plain body. */
    public static Response postVia(int proxyPort, String url, String text) throws IOException {
        byte[] content = text.getBytes(StandardCharsets.UTF_8);
        String head = head("POST", url, URI.create(url).getRawAuthority(), "Content-Type: text/plain",
                "Content-Length: " + content.length);
        try (RawHttpConnection connection = open(proxyPort)) {
            connection.send(head);
            connection.out.write(content);
            connection.out.flush();
            return connection.readResponse();
        }
    }

    /**
     * Parses {@code raw}, what a client read to the end of its connection, as {@link #readResponse} reads a
     * response; when not even a whole header section arrived, the answer has status -1 and is not complete.
     */
    public static Response parse(byte[] raw) {
        try {
            return new RawHttpConnection(null, new ByteArrayInputStream(raw), OutputStream.nullOutputStream())
                    .readResponse();
        } catch (IOException | RuntimeException broken) {
            return new Response("", -1, Map.of(), new byte[0], false);
        }
    }

    /** Whether a TCP connection to 127.0.0.1:{@code port} is refused now (nothing listens there). */
    public static boolean connectionRefused(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(loopback(), port), READ_LIMIT_MS);
            return false;
        } catch (ConnectException refused) {
            return true;
        }
    }

    /** The socket, for a tunnel that carries its own payload after the head. */
    Socket socket() {
        return socket;
    }

    /** This end's port: the access log's client_port. */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** Sends {@code text} as ISO-8859-1 bytes, as written (the caller supplies every CRLF). */
    public void send(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Reads responses until a final (non-1xx) one and returns it; {@code interims} gets each 1xx seen first. */
    public Response readFinalResponse(List<Response> interims) throws IOException {
        for (int i = 0; i < 16; i++) {
            Response response = readResponse();
            if (response.status() >= 200) {
                return response;
            }
            interims.add(response);
        }
        throw new IOException("more than 16 interim responses");
    }

    /**
     * Reads one response: status line, header fields, then a body framed by chunked encoding, Content-Length
     * or the end of the connection. A body cut short by a close or reset comes back with {@code complete}
     * false. Throws EOFException when the connection ends before a whole header section arrived.
     */
    public Response readResponse() throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new EOFException("connection closed before a status line");
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new EOFException("connection closed inside the header section after: " + statusLine);
            }
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean complete;
        String transferEncoding = first(headers, "transfer-encoding");
        String contentLength = first(headers, "content-length");
        if (status < 200 || status == 204 || status == 304) {
            // No content, whatever the fields say (RFC 9112 6.3): an interim 100, or a bodiless final answer.
            complete = true;
        } else if (transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            complete = readChunked(body);
        } else if (contentLength != null) {
            long length = Long.parseLong(contentLength);
            complete = readUpTo(body, length) == length;
        } else {
            readUpTo(body, Long.MAX_VALUE);
            complete = true;
        }
        return new Response(parts[0], status, headers, body.toByteArray(), complete);
    }

    /**
     * Reads a response head up to and including its blank line, a byte at a time, so that nothing after it (a
     * tunnel's first bytes) is consumed. Throws EOFException when the stream ends inside the head, and gives up
     * after 16 KiB.
     */
    public static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        // How much of CR LF CR LF the last bytes read have matched; no copy of the head per byte (the
        // interception benchmark reads heads in its measured loop).
        int matched = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed inside the response head: " + head);
            }
            head.write(b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
            if (head.size() > 16 * 1024) {
                throw new IOException("response head longer than 16 KiB");
            }
        }
    }

    /**
     * Reads and discards until the peer closes the connection (a FIN or a reset); fails with a
     * SocketTimeoutException if it stays open past the read limit.
     */
    public void awaitClosedByPeer() throws IOException {
        byte[] buffer = new byte[8192];
        try {
            while (in.read(buffer) >= 0) {
                // Discard whatever is still in flight.
            }
        } catch (SocketException reset) {
            // A reset is a close too.
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private boolean readChunked(ByteArrayOutputStream body) throws IOException {
        while (true) {
            String sizeLine = readLineQuietly();
            if (sizeLine == null) {
                return false;
            }
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                String trailer;
                do {
                    trailer = readLineQuietly();
                    if (trailer == null) {
                        return false;
                    }
                } while (!trailer.isEmpty());
                return true;
            }
            if (readUpTo(body, size) != size || readLineQuietly() == null) {
                return false;
            }
        }
    }

    /** Reads up to {@code limit} bytes into {@code sink}; stops early at a close or reset. */
    private long readUpTo(ByteArrayOutputStream sink, long limit) throws IOException {
        byte[] buffer = new byte[8192];
        long total = 0;
        try {
            while (total < limit) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - total));
                if (n < 0) {
                    break;
                }
                sink.write(buffer, 0, n);
                total += n;
            }
        } catch (SocketException reset) {
            // The connection was reset: the body ends here, short.
        }
        return total;
    }

    private String readLineQuietly() throws IOException {
        try {
            return readLine();
        } catch (SocketException reset) {
            return null;
        }
    }

    /** One line without its CRLF (or bare LF); null at the end of the stream before any byte. */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /**
     * One response as it came off the wire.
     *
     * @param version  the status line's protocol, e.g. HTTP/1.1
     * @param headers  field names in lower case, values in arrival order
     * @param complete whether the body was whole by its framing (Content-Length reached, last chunk read, or
     *                 a close-delimited body)
     */
    public record Response(String version, int status, Map<String, List<String>> headers, byte[] body, boolean complete) {

        /** The first value of header {@code name} (any case), or null. */
        public String header(String name) {
            return first(headers, name.toLowerCase(Locale.ROOT));
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
