package dev.tollgate.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The JDK's HttpClient sending every request through a proxy listener on 127.0.0.1, for tests that want what a
 * real client library does (HTTP/1.1 framing, TLS inside a CONNECT tunnel); {@link RawHttpConnection} is for
 * the wire as written. Java 17's HttpClient has no close(): its selector thread ends once the client is
 * unreachable.
 */
public final class ProxyClient {

    /** Safety nets so that a hung exchange fails the test instead of hanging the build; not timing checks. */
    private static final Duration CONNECT_LIMIT = Duration.ofSeconds(10);
    private static final Duration CALL_LIMIT = Duration.ofSeconds(30);

    private ProxyClient() {
    }

    /** A client builder set for the proxy on 127.0.0.1:{@code proxyPort}, HTTP/1.1, to add TLS trust to. */
    public static HttpClient.Builder builder(int proxyPort) {
        return HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", proxyPort)))
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_LIMIT);
    }

    /** A client through the proxy on 127.0.0.1:{@code proxyPort}. */
    public static HttpClient through(int proxyPort) {
        return builder(proxyPort).build();
    }

    /** {@code GET url} with {@code client}, its body as text. */
    public static HttpResponse<String> get(HttpClient client, String url) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(CALL_LIMIT).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
