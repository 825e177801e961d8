package dev.tollgate.daemon.stats;

import dev.tollgate.store.AccessRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Prometheus metrics from the access-record stream: {@code tollgate_requests_total{listener,kind,status_class}},
 * {@code tollgate_bytes_total{listener,direction}} and the {@code tollgate_request_duration_seconds} histogram.
 */
public final class AccessMetrics implements Consumer<AccessRecord> {

    /** Histogram buckets from a quick answer to a long tunnel; a dozen keep the scrape small per listener. */
    private static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30),
        Duration.ofMinutes(5)};

    private final MeterRegistry registry;

    public AccessMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void accept(AccessRecord record) {
        String listener = record.listener();
        Counter.builder("tollgate.requests")
                .description("Requests, tunnels and refusals, by the status sent to the client")
                .tags("listener", listener, "kind", record.kind().name(), "status_class", statusClass(record.status()))
                .register(registry).increment();
        Counter.builder("tollgate.bytes").description("Body and tunnel payload bytes, by direction")
                .baseUnit("bytes").tags("listener", listener, "direction", "from_client")
                .register(registry).increment(record.bytesFromClient());
        Counter.builder("tollgate.bytes").description("Body and tunnel payload bytes, by direction")
                .baseUnit("bytes").tags("listener", listener, "direction", "to_client")
                .register(registry).increment(record.bytesToClient());
        Timer.builder("tollgate.request.duration")
                .description("Time from a request's arrival until its response ended or its tunnel closed")
                .tags("listener", listener, "kind", record.kind().name())
                .serviceLevelObjectives(BUCKETS)
                .register(registry).record(Duration.ofMillis(record.durationMs()));
    }

    private static String statusClass(int status) {
        return status >= 100 && status < 600 ? (status / 100) + "xx" : "other";
    }
}
