package dev.tollgate.daemon.sink;

import java.io.IOException;
import java.time.Duration;

/**
 * A delivery the receiver turned away for now, asking to be retried (OTLP/HTTP: 429, 502, 503, 504), with how long
 * it asked to be left alone when it said so ({@code Retry-After}, RFC 9110 10.2.3). The pump may wait at least that
 * long before the next attempt; any other {@link IOException} from a transport is retried after its own backoff.
 */
public class ReceiverBusyException extends IOException {

    private final Duration retryAfter;

    public ReceiverBusyException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    /** How long the receiver asked to be left alone, or null when it did not say (or said it unreadably). */
    public Duration retryAfter() {
        return retryAfter;
    }
}
