package dev.tollgate.daemon.sink;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the OTLP transport makes of its config and of a collector's words, without a socket. */
class OtlpTransportTest {

    private static final Instant NOW = Instant.parse("2026-12-06T15:00:00Z");

    @Test
    void retryAfterIsReadAsSecondsOrAnHttpDateAndBounded() {
        assertEquals(Duration.ofSeconds(30), OtlpTransport.retryAfter("30", NOW));
        assertEquals(Duration.ofSeconds(90), OtlpTransport.retryAfter("Sun, 06 Dec 2026 15:01:30 GMT", NOW));
        assertEquals(Duration.ZERO, OtlpTransport.retryAfter("Sun, 06 Dec 2026 14:00:00 GMT", NOW));
        assertEquals(OtlpTransport.MAX_RETRY_AFTER, OtlpTransport.retryAfter("86400", NOW));
        assertNull(OtlpTransport.retryAfter(null, NOW));
        assertNull(OtlpTransport.retryAfter("soon", NOW));
        assertNull(OtlpTransport.retryAfter("-5", NOW));
    }

    @Test
    void aCollectorsWordsAreCutToOneShortPrintableLine() {
        assertEquals("first", OtlpTransport.firstLine("first\r\nsecond"));
        assertEquals("a?[31mred", OtlpTransport.firstLine("a\u001b[31mred"));
        assertEquals("(no body)", OtlpTransport.firstLine(""));
        String cut = OtlpTransport.firstLine("x".repeat(500));
        assertEquals("x".repeat(200) + "...", cut);
    }

    @Test
    void theTargetNamesTheEndpointWithoutItsQuery() {
        try (OtlpTransport transport = transport("https://collector.example:4318/v1/logs?token=abc", Map.of())) {
            assertEquals("https://collector.example:4318/v1/logs", transport.target());
        }
        try (OtlpTransport transport = transport("http://collector.example/v1/logs", Map.of())) {
            assertEquals("http://collector.example:80/v1/logs", transport.target());
        }
    }

    @Test
    void credentialsInTheUrlAreRefusedWithoutShowingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> transport("http://user:s3cret@127.0.0.1:4318/v1/logs", Map.of()));
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        assertTrue(e.getMessage().startsWith("url: "), e.getMessage());
    }

    @Test
    void headersTheSinkSetsItselfOrThatCouldSplitTheRequestAreRefusedWithoutShowingTheValue() {
        assertEquals("headers: Content-Type is set by the otlp sink itself", assertThrows(
                IllegalArgumentException.class,
                () -> transport("http://127.0.0.1:4318/v1/logs", Map.of("Content-Type", "text/plain"))).getMessage());
        IllegalArgumentException split = assertThrows(IllegalArgumentException.class,
                () -> transport("http://127.0.0.1:4318/v1/logs", Map.of("Authorization", "s3cret\r\nX-Evil: 1")));
        assertFalse(split.getMessage().contains("s3cret"), split.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> transport("http://127.0.0.1:4318/v1/logs", Map.of("Bad Name", "v")));
    }

    private static OtlpTransport transport(String url, Map<String, String> headers) {
        return new OtlpTransport("siem", url, headers, OtlpTransport.DEFAULT_CONNECT_TIMEOUT_MS,
                OtlpTransport.DEFAULT_REQUEST_TIMEOUT_MS, Clock.systemUTC());
    }
}
