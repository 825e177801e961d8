package dev.tollgate.daemon.forward;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Origin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The request target's host as Jetty's HttpClient will read it: {@link RequestForm#javaUriReadsHost} answers
 * dotted-quad addresses and plain host names without building a {@link java.net.URI}, and must answer every host
 * Jetty's parser lets through as the URI would (bracketed IPv6 addresses aside: Jetty's parser checks those).
 */
class RequestFormTest {

    private static final String CHARS = "ab0129-_.";

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0", "255.255.255.255", "127.000.000.001", "10.1.2.3", "256.0.0.1",
            "1.2.3.256", "127.1", "127.0.1", "1.2.3.4.5", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "2130706433",
            "127.0.0.1.", ".127.0.0.1", "127..0.1", "1.2.3.", "1.2.3.4a", "host.123", "1.2.3.0004", "9999.1.1.1",
            "-1.2.3.4", "1.2.3.04", "01.02.03.04", "example.com", "example.com.", "a.b.c.d", "x", "x1", "1x",
            "EXAMPLE.COM", "a-b.example", "a--b.example", "-a.example", "a-.example", "a_b.example", "_dmarc.example",
            "a..example", ".example", "example..", "1.2.3.-4", "xn--bcher-kva.example", "a.1b", "a.b1", "a.b-"})
    void answersAsJavaNetUriDoes(String host) {
        assertEquals(uriReads(host), RequestForm.javaUriReadsHost(host), host);
    }

    /** The Host sent upstream is the one Jetty's HttpClient made from the target's URI before we made it. */
    @ParameterizedTest
    @ValueSource(strings = {"http://example.com/", "http://example.com:80/", "http://example.com:8080/x?y",
            "https://example.com/", "https://example.com:443/", "https://example.com:8443/", "http://example.com:443/",
            "https://example.com:80/", "http://127.0.0.1:18080/", "http://[::1]:8080/", "http://[::1]/",
            "https://[2001:db8::1]:443/", "http://EXAMPLE.com:81/"})
    void originHostIsWhatJettysHttpClientWouldHaveSent(String target) throws Exception {
        try (HttpClient client = new HttpClient()) {
            org.eclipse.jetty.client.Request request = client.newRequest(URI.create(target));
            String jettys = URI.create(new Origin(request.getScheme(), request.getHost(), request.getPort()).asString()
                    + "/").getAuthority();

            assertEquals(jettys, RequestForm.originHost(request.getScheme(), request.getHost(), request.getPort()));
        }
    }

    @Test
    void answersRandomHostsAsJavaNetUriDoes() {
        Random random = new Random(20261206L);
        for (int i = 0; i < 50_000; i++) {
            String host = random.nextBoolean() ? numeric(random) : name(random);
            assertEquals(uriReads(host), RequestForm.javaUriReadsHost(host), host);
        }
    }

    private static String numeric(Random random) {
        StringBuilder host = new StringBuilder();
        int parts = 1 + random.nextInt(5);
        for (int p = 0; p < parts; p++) {
            if (p > 0) {
                host.append('.');
            }
            host.append(random.nextInt(10) == 0 ? "" : Integer.toString(random.nextInt(400)));
        }
        return host.toString();
    }

    private static String name(Random random) {
        StringBuilder host = new StringBuilder();
        int length = 1 + random.nextInt(12);
        for (int c = 0; c < length; c++) {
            host.append(CHARS.charAt(random.nextInt(CHARS.length())));
        }
        return host.toString();
    }

    private static boolean uriReads(String host) {
        try {
            return java.net.URI.create("http://" + host + "/").getHost() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
