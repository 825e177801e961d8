package dev.tollgate.packaging;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * Two origins on 127.0.0.1, each on a free port: plain HTTP, and HTTPS with a self-signed certificate made
 * by keytool for the test (clients connect with curl -k: the proxy only tunnels the bytes). Each answers
 * every request with a fixed body.
 */
final class LocalOrigins implements AutoCloseable {

    static final String PLAIN_BODY = "hello over http\n";
    static final String TLS_BODY = "hello over https\n";

    private final HttpServer plain;
    private final HttpsServer tls;

    LocalOrigins(Path workDir) throws Exception {
        plain = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        plain.createContext("/", exchange -> answer(exchange, PLAIN_BODY));
        tls = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tls.setHttpsConfigurator(new HttpsConfigurator(sslContext(workDir)));
        tls.createContext("/", exchange -> answer(exchange, TLS_BODY));
        plain.start();
        tls.start();
    }

    int plainPort() {
        return plain.getAddress().getPort();
    }

    int tlsPort() {
        return tls.getAddress().getPort();
    }

    @Override
    public void close() {
        plain.stop(0);
        tls.stop(0);
    }

    private static void answer(HttpExchange exchange, String body) throws IOException {
        try (InputStream in = exchange.getRequestBody(); OutputStream out = exchange.getResponseBody()) {
            in.readAllBytes();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, bytes.length);
            out.write(bytes);
        }
    }

    private static SSLContext sslContext(Path workDir) throws Exception {
        Path keystore = workDir.resolve("origin.p12");
        char[] password = "origin-test".toCharArray();
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Command.run(java.util.Map.of(), List.of(keytool, "-genkeypair", "-alias", "origin", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", new String(password),
                "-keypass", new String(password))).assertOk();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(keystore)) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }
}
