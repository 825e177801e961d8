package dev.tollgate.daemon.forward;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The request target's host as Jetty's HttpClient will read it: {@link RequestForm#javaUriReadsHost} answers
 * dotted-quad addresses without building a {@link java.net.URI}, and must answer every numeric-looking host (its
 * last label starts with a digit: the hosts it is there for) as the URI would.
 */
class RequestFormTest {

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0", "255.255.255.255", "127.000.000.001", "10.1.2.3", "256.0.0.1",
            "1.2.3.256", "127.1", "127.0.1", "1.2.3.4.5", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "2130706433",
            "127.0.0.1.", ".127.0.0.1", "127..0.1", "1.2.3.", "1.2.3.4a", "host.123",
            "1.2.3.0004", "9999.1.1.1", "-1.2.3.4", "1.2.3.04", "01.02.03.04"})
    void answersAsJavaNetUriDoes(String host) {
        assertEquals(true, numericLooking(host), host);
        assertEquals(uriReads(host), RequestForm.javaUriReadsHost(host), host);
    }

    @Test
    void answersRandomNumericHostsAsJavaNetUriDoes() {
        Random random = new Random(20261206L);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder host = new StringBuilder();
            int parts = 1 + random.nextInt(5);
            for (int p = 0; p < parts; p++) {
                if (p > 0) {
                    host.append('.');
                }
                host.append(random.nextInt(10) == 0 ? "" : Integer.toString(random.nextInt(400)));
            }
            String h = host.toString();
            if (!numericLooking(h)) {
                continue;
            }
            assertEquals(uriReads(h), RequestForm.javaUriReadsHost(h), h);
        }
    }

    private static boolean numericLooking(String host) {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        int lastLabel = name.lastIndexOf('.') + 1;
        return lastLabel < name.length() && Character.isDigit(name.charAt(lastLabel));
    }

    private static boolean uriReads(String host) {
        try {
            return java.net.URI.create("http://" + host + "/").getHost() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
