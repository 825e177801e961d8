package dev.tollgate.testing.origins;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real HTTP (or HTTPS) origin on 127.0.0.1 and a kernel-chosen port, for tests to proxy to. Everything but
 * {@code /echo} streams, so 64 MiB and 1 GiB bodies cost no memory here.
 * <ul>
 *   <li>{@code GET /hello} answers {@code hello} (text/plain, 5 bytes);</li>
 *   <li>{@code POST /echo} answers the request body as it came;</li>
 *   <li>{@code GET /bytes?n=N} answers N bytes of {@code 'x'};</li>
 *   <li>{@code GET|HEAD /bytes/N}: N bytes of {@link #pattern} with their Content-Length; a {@code Range:
 *   bytes=FIRST-[LAST]} gets a 206 with that part;</li>
 *   <li>{@code POST|PUT /upload...}: reads the body (Content-Length or chunked) and answers {@code LENGTH SHA256}
 *   as text;</li>
 *   <li>{@code GET|HEAD /files/PATH}: the file under the directory given by {@link Builder#files} (an apt
 *   repository, a pip index; a directory's index.html), 404 if there is none;</li>
 *   <li>{@code /git/PATH}: git's smart HTTP through {@code git http-backend} as a CGI program, repositories under
 *   the root given by {@link Builder#git};</li>
 *   <li>anything else is 404 with body {@code not found}.</li>
 * </ul>
 * It keeps each request's method, path and headers, so tests can check what reached the origin. It never sends
 * 100 Continue: an {@code Expect} that reaches it is ignored, as by many real servers.
 */
public final class WebOrigin implements AutoCloseable {

    private static final Pattern BYTES = Pattern.compile("/bytes/(\\d+)(/.*)?");
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");
    private static final int BLOCK = 64 * 1024;
    private static final long CGI_LIMIT_SECONDS = 120;

    /** What reached the origin. */
    public record Received(String method, String path, HttpFields headers) {
        /** The first value of {@code name}, or null. */
        public String header(String name) {
            return headers.get(name);
        }
    }

    /** What an origin serves beyond its fixed routes, and over what. */
    public static final class Builder {
        private Path files;
        private Path gitRoot;
        private Path keyStore;

        private Builder() {
        }

        /** Serves the files under {@code dir} at /files/. */
        public Builder files(Path dir) {
            this.files = dir;
            return this;
        }

        /** Serves the git repositories under {@code root} at /git/. */
        public Builder git(Path root) {
            this.gitRoot = root;
            return this;
        }

        /** Speaks TLS with the certificate of {@code keyStore}, an {@link OriginKeyStore}. */
        public Builder tls(Path keyStore) {
            this.keyStore = keyStore;
            return this;
        }

        public WebOrigin start() throws Exception {
            return new WebOrigin(this);
        }
    }

    private final Server server;
    private final ServerConnector connector;
    private final Path files;
    private final Path gitRoot;
    private final Path keyStore;
    private final List<Received> received = new CopyOnWriteArrayList<>();

    private WebOrigin(Builder builder) throws Exception {
        this.files = builder.files;
        this.gitRoot = builder.gitRoot;
        this.keyStore = builder.keyStore;
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("web-origin");
        server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        if (keyStore == null) {
            connector = new ServerConnector(server, new NeverContinueConnectionFactory(http));
        } else {
            SslContextFactory.Server tls = new SslContextFactory.Server();
            tls.setKeyStorePath(keyStore.toString());
            tls.setKeyStorePassword(OriginKeyStore.PASSWORD);
            http.addCustomizer(new SecureRequestCustomizer(false));
            connector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"),
                    new NeverContinueConnectionFactory(http));
        }
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Routes());
        server.start();
    }

    /** A plain HTTP origin with the fixed routes only. */
    public static WebOrigin plain() throws Exception {
        return builder().start();
    }

    /** An HTTPS origin with the fixed routes, its certificate the {@link OriginKeyStore} in {@code dir}. */
    public static WebOrigin tls(Path dir) throws Exception {
        return builder().tls(OriginKeyStore.in(dir)).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT} or {@code https://...}, without a trailing slash. */
    public String base() {
        return (keyStore == null ? "http" : "https") + "://127.0.0.1:" + port();
    }

    /** {@link #base()} followed by {@code pathAndQuery}, which starts with a slash. */
    public String url(String pathAndQuery) {
        return base() + pathAndQuery;
    }

    /** An SSLContext that trusts this origin's certificate (TLS origins only). */
    public SSLContext clientSslContext() throws Exception {
        return OriginKeyStore.trusting(keyStore);
    }

    /** Writes this origin's certificate to {@code file} in PEM (TLS origins only); returns the file. */
    public Path writeCertificatePem(Path file) throws Exception {
        return OriginKeyStore.writeCertificatePem(keyStore, file);
    }

    /** Each request received, in arrival order. */
    public List<Received> received() {
        return List.copyOf(received);
    }

    /** The headers of each request received, in arrival order. */
    public List<HttpFields> receivedHeaders() {
        return received.stream().map(Received::headers).toList();
    }

    /** How many requests reached this path. */
    public int hits(String path) {
        return (int) received.stream().filter(r -> r.path().equals(path)).count();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** The byte at {@code offset} of every /bytes/N body: position-dependent, so a lost or moved block shows. */
    public static byte pattern(long offset) {
        return (byte) (offset * 31 + offset / 4093);
    }

    /** Writes {@code length} pattern bytes from {@code offset} to {@code out}, a block at a time. */
    public static void writePattern(OutputStream out, long offset, long length) throws IOException {
        byte[] block = new byte[BLOCK];
        long end = offset + length;
        for (long at = offset; at < end; ) {
            int n = (int) Math.min(block.length, end - at);
            for (int i = 0; i < n; i++) {
                block[i] = pattern(at + i);
            }
            out.write(block, 0, n);
            at += n;
        }
    }

    /** The SHA-256 (hex) of {@code length} pattern bytes from offset 0. */
    public static String patternSha256(long length) throws IOException {
        MessageDigest digest = sha256();
        writePattern(new OutputStream() {
            @Override
            public void write(int b) {
                digest.update((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                digest.update(b, off, len);
            }
        }, 0, length);
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The SHA-256 (hex) of a file, read a block at a time. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] block = new byte[BLOCK];
            for (int n = in.read(block); n >= 0; n = in.read(block)) {
                digest.update(block, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** A new SHA-256 digest. */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            received.add(new Received(request.getMethod(), path, request.getHeaders().asImmutable()));
            Matcher bytes = BYTES.matcher(path);
            try {
                if (path.equals("/hello")) {
                    text(response, 200, "hello");
                } else if (path.equals("/echo")) {
                    echo(request, response);
                } else if (path.equals("/bytes")) {
                    String n = Request.extractQueryParameters(request).getValue("n");
                    byte[] body = new byte[n == null ? 0 : Integer.parseInt(n)];
                    Arrays.fill(body, (byte) 'x');
                    write(response, 200, null, body);
                } else if (bytes.matches()) {
                    patternBytes(request, response, Long.parseLong(bytes.group(1)));
                } else if (path.startsWith("/upload")) {
                    upload(request, response);
                } else if (path.startsWith("/files/") && files != null) {
                    file(request, response, files.resolve(path.substring("/files/".length())).normalize());
                } else if (path.startsWith("/git/") && gitRoot != null) {
                    git(request, response, path.substring("/git".length()));
                } else {
                    text(response, 404, "not found");
                }
                callback.succeeded();
            } catch (Throwable failure) {
                callback.failed(failure);
            }
            return true;
        }

        private void echo(Request request, Response response) throws IOException {
            byte[] body;
            try (InputStream in = Content.Source.asInputStream(request)) {
                body = in.readAllBytes();
            }
            write(response, 200, "application/octet-stream", body);
        }

        private void patternBytes(Request request, Response response, long length) throws IOException {
            long first = 0;
            long last = length - 1;
            Matcher range = RANGE.matcher(String.valueOf(request.getHeaders().get(HttpHeader.RANGE)));
            if (range.matches() && Long.parseLong(range.group(1)) < length) {
                first = Long.parseLong(range.group(1));
                if (!range.group(2).isEmpty()) {
                    last = Math.min(last, Long.parseLong(range.group(2)));
                }
                response.setStatus(206);
                response.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes " + first + "-" + last + "/" + length);
            } else {
                response.setStatus(200);
            }
            response.getHeaders().put(HttpHeader.ACCEPT_RANGES, "bytes");
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Math.max(0, last - first + 1));
            try (OutputStream out = Content.Sink.asOutputStream(response)) {
                if (!HttpMethod.HEAD.is(request.getMethod())) {
                    writePattern(out, first, Math.max(0, last - first + 1));
                }
            }
        }

        private void upload(Request request, Response response) throws IOException {
            MessageDigest digest = sha256();
            long total = 0;
            try (InputStream in = Content.Source.asInputStream(request)) {
                byte[] block = new byte[BLOCK];
                for (int n = in.read(block); n >= 0; n = in.read(block)) {
                    digest.update(block, 0, n);
                    total += n;
                }
            }
            text(response, 200, total + " " + HexFormat.of().formatHex(digest.digest()) + "\n");
        }

        private void file(Request request, Response response, Path file) throws IOException {
            if (Files.isDirectory(file)) {
                file = file.resolve("index.html");
            }
            if (!file.startsWith(files) || !Files.isRegularFile(file)) {
                text(response, 404, "not found");
                return;
            }
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, file.toString().endsWith(".html") ? "text/html"
                    : "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Files.size(file));
            try (OutputStream out = Content.Sink.asOutputStream(response)) {
                if (!HttpMethod.HEAD.is(request.getMethod())) {
                    Files.copy(file, out);
                }
            }
        }

        /** RFC 3875 CGI, as much of it as git http-backend needs: request body in, header section and body out. */
        private void git(Request request, Response response, String pathInfo) throws Exception {
            ProcessBuilder builder = new ProcessBuilder("git", "http-backend");
            Map<String, String> env = builder.environment();
            env.put("GIT_PROJECT_ROOT", gitRoot.toString());
            env.put("GIT_HTTP_EXPORT_ALL", "1");
            env.put("GATEWAY_INTERFACE", "CGI/1.1");
            env.put("REQUEST_METHOD", request.getMethod());
            env.put("PATH_INFO", pathInfo);
            env.put("QUERY_STRING", request.getHttpURI().getQuery() == null ? "" : request.getHttpURI().getQuery());
            env.put("REMOTE_ADDR", "127.0.0.1");
            env.put("REMOTE_USER", "tester");
            String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
            if (contentType != null) {
                env.put("CONTENT_TYPE", contentType);
            }
            long length = request.getLength();
            if (length >= 0) {
                env.put("CONTENT_LENGTH", Long.toString(length));
            }
            for (HttpField field : request.getHeaders()) {
                String name = field.getName().toUpperCase(Locale.ROOT).replace('-', '_');
                if (!name.equals("CONTENT_TYPE") && !name.equals("CONTENT_LENGTH")) {
                    env.put("HTTP_" + name, field.getValue());
                }
            }
            Process cgi = builder.redirectError(ProcessBuilder.Redirect.DISCARD).start();
            Thread feeder = new Thread(() -> {
                try (InputStream in = Content.Source.asInputStream(request); OutputStream stdin = cgi.getOutputStream()) {
                    in.transferTo(stdin);
                } catch (IOException e) {
                    // The CGI program stopped reading; its answer says what went wrong.
                }
            }, "web-origin-cgi-stdin");
            feeder.setDaemon(true);
            feeder.start();
            try (InputStream stdout = cgi.getInputStream()) {
                int status = 200;
                for (String line = cgiLine(stdout); line != null && !line.isEmpty(); line = cgiLine(stdout)) {
                    int colon = line.indexOf(':');
                    String name = line.substring(0, colon).trim();
                    String value = line.substring(colon + 1).trim();
                    if (name.equalsIgnoreCase("Status")) {
                        status = Integer.parseInt(value.split(" ")[0]);
                    } else {
                        response.getHeaders().add(name, value);
                    }
                }
                response.setStatus(status);
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    stdout.transferTo(out);
                }
            } finally {
                if (!cgi.waitFor(CGI_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                    cgi.destroyForcibly();
                }
                feeder.join(TimeUnit.SECONDS.toMillis(CGI_LIMIT_SECONDS));
            }
        }

        private void text(Response response, int status, String body) throws IOException {
            write(response, status, "text/plain", body.getBytes(StandardCharsets.UTF_8));
        }

        private void write(Response response, int status, String contentType, byte[] body) throws IOException {
            response.setStatus(status);
            if (contentType != null) {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            }
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            try (OutputStream out = Content.Sink.asOutputStream(response)) {
                out.write(body);
            }
        }
    }

    /**
     * HTTP/1.1 connections that never send 100 Continue, as many real origins do (RFC 9110 10.1.1 lets a server
     * read the body without one): the request's Expect field is dropped as it is parsed, so Jetty does not answer
     * it when the body is first read. This is the origin of issue #20, against which curl's uploads hung.
     */
    private static final class NeverContinueConnectionFactory extends HttpConnectionFactory {

        NeverContinueConnectionFactory(HttpConfiguration http) {
            super(http);
        }

        @Override
        public Connection newConnection(Connector connector, EndPoint endPoint) {
            HttpConnection connection = new HttpConnection(getHttpConfiguration(), connector, endPoint) {
                @Override
                protected RequestHandler newRequestHandler() {
                    return new RequestHandler() {
                        @Override
                        public void parsedHeader(HttpField field) {
                            if (field.getHeader() != HttpHeader.EXPECT) {
                                super.parsedHeader(field);
                            }
                        }
                    };
                }
            };
            return configure(connection, connector, endPoint);
        }
    }

    /** One line of a CGI header section without its line end, read a byte at a time (the body stays unread). */
    private static String cgiLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b == '\n') {
                return line.toString();
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.length() == 0 ? null : line.toString();
    }
}
