package dev.tollgate.daemon;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP (or HTTPS) origin on 127.0.0.1 and a kernel-chosen port, for tests to proxy to:
 * <ul>
 *   <li>{@code GET /hello} answers {@code hello} (text/plain, 5 bytes);</li>
 *   <li>{@code POST /echo} answers the request body as it came;</li>
 *   <li>{@code GET /bytes?n=N} answers N bytes of {@code 'x'};</li>
 *   <li>anything else is 404 with body {@code not found}.</li>
 * </ul>
 * It keeps the headers of every request it received, so tests can check what reached the origin.
 */
public final class TestOrigin implements AutoCloseable {

    /** The password of every {@link #selfSignedKeyStore}. */
    public static final String KEY_STORE_PASSWORD = "changeit";
    private static final String PASSWORD = KEY_STORE_PASSWORD;

    private final Server server;
    private final ServerConnector connector;
    private final List<HttpFields> receivedHeaders = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> hits = new ConcurrentHashMap<>();
    private final Path keyStore;

    private TestOrigin(Path keyStore) throws Exception {
        this.keyStore = keyStore;
        server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        if (keyStore == null) {
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
        } else {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(keyStore.toString());
            ssl.setKeyStorePassword(PASSWORD);
            http.addCustomizer(new SecureRequestCustomizer(false));
            connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                    new HttpConnectionFactory(http));
        }
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Routes());
        server.start();
    }

    /** A plain HTTP origin. */
    public static TestOrigin plain() throws Exception {
        return new TestOrigin(null);
    }

    /**
     * An HTTPS origin with a self-signed certificate for 127.0.0.1 and localhost, made by the JDK's keytool
     * into {@code dir}; {@link #clientSslContext()} trusts it.
     */
    public static TestOrigin tls(Path dir) throws Exception {
        return new TestOrigin(selfSignedKeyStore(dir));
    }

    /**
     * A PKCS12 key store in {@code dir} (made once) holding a self-signed certificate for 127.0.0.1 and
     * localhost under alias {@code origin}, its password {@link #KEY_STORE_PASSWORD}: for any loopback TLS server.
     */
    public static Path selfSignedKeyStore(Path dir) throws Exception {
        Path store = dir.resolve("origin.p12");
        if (!Files.exists(store)) {
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process process = new ProcessBuilder(keytool, "-genkeypair", "-alias", "origin", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                    "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD,
                    "-keypass", PASSWORD).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + output);
            }
        }
        return store;
    }

    /** An SSLContext that trusts this origin's certificate (TLS origins only). */
    public SSLContext clientSslContext() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, PASSWORD.toCharArray());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /** Writes this origin's self-signed certificate to {@code file} in PEM (TLS origins only); returns the file. */
    public Path writeCertificatePem(Path file) throws Exception {
        return writeCertificatePem(keyStore, file);
    }

    /** Writes the certificate of a {@link #selfSignedKeyStore} to {@code file} in PEM; returns the file. */
    public static Path writeCertificatePem(Path keyStore, Path file) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, PASSWORD.toCharArray());
        }
        String base64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(store.getCertificate("origin").getEncoded());
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n");
        return file;
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT} or {@code https://...}, without a trailing slash. */
    public String base() {
        return (keyStore == null ? "http" : "https") + "://127.0.0.1:" + port();
    }

    /** The headers of each request received, in arrival order. */
    public List<HttpFields> receivedHeaders() {
        return receivedHeaders;
    }

    /** How many requests reached this path. */
    public int hits(String path) {
        return hits.getOrDefault(path, 0);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            receivedHeaders.add(request.getHeaders().asImmutable());
            String path = Request.getPathInContext(request);
            hits.merge(path, 1, Integer::sum);
            switch (path) {
                case "/hello" -> text(response, callback, 200, "hello");
                case "/echo" -> {
                    byte[] body = Content.Source.asByteBuffer(request).array();
                    response.setStatus(200);
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                    response.write(true, ByteBuffer.wrap(body), callback);
                }
                case "/bytes" -> {
                    String n = Request.extractQueryParameters(request).getValue("n");
                    byte[] body = new byte[n == null ? 0 : Integer.parseInt(n)];
                    java.util.Arrays.fill(body, (byte) 'x');
                    response.setStatus(200);
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                    response.write(true, ByteBuffer.wrap(body), callback);
                }
                default -> text(response, callback, 404, "not found");
            }
            return true;
        }

        private void text(Response response, Callback callback, int status, String body) throws IOException {
            response.setStatus(status);
            response.getHeaders().add(new HttpField(HttpHeader.CONTENT_TYPE, "text/plain"));
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
        }
    }
}
