package dev.tollgate.daemon.stats;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Prometheus metrics from the access-record stream: {@code tollgate_requests_total{listener,kind,status_class}},
 * {@code tollgate_bytes_total{listener,direction}}, {@code tollgate_would_deny_total{listener,kind}} (report mode:
 * what a rule or limit would have refused, the stats' {@code wouldDeny}) and the
 * {@code tollgate_request_duration_seconds} histogram.
 * The meters of a (listener, kind) pair are registered once and kept, so a record costs a map lookup and a few
 * increments rather than a registry lookup with tag sorting per meter.
 */
public final class AccessMetrics implements Consumer<AccessRecord> {

    /** Histogram buckets from a quick answer to a long tunnel; a dozen keep the scrape small per listener. */
    private static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30),
        Duration.ofMinutes(5)};

    private final MeterRegistry registry;
    private final Map<String, Meters> meters = new ConcurrentHashMap<>();

    public AccessMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void accept(AccessRecord record) {
        Meters m = meters.computeIfAbsent(record.listener() + '\n' + record.kind().name(),
                key -> new Meters(record.listener(), record.kind()));
        m.requests[StatusClass.of(record.status()).ordinal()].increment();
        m.bytesFromClient.increment(record.bytesFromClient());
        m.bytesToClient.increment(record.bytesToClient());
        m.duration.record(Duration.ofMillis(record.durationMs()));
        if (record.reason() != null && record.reason().startsWith(ListenerStats.WOULD_DENY)) {
            m.wouldDeny.increment();
        }
    }

    /** The meters one (listener, kind) pair feeds. */
    private final class Meters {
        final Counter[] requests = new Counter[StatusClass.values().length];
        final Counter bytesFromClient;
        final Counter bytesToClient;
        final Timer duration;
        final Counter wouldDeny;

        Meters(String listener, Kind kind) {
            for (StatusClass statusClass : StatusClass.values()) {
                requests[statusClass.ordinal()] = Counter.builder("tollgate.requests")
                        .description("Requests, tunnels and refusals, by the status sent to the client")
                        .tags("listener", listener, "kind", kind.name(), "status_class", statusClass.label)
                        .register(registry);
            }
            bytesFromClient = bytes(listener, "from_client");
            bytesToClient = bytes(listener, "to_client");
            duration = Timer.builder("tollgate.request.duration")
                    .description("Time from a request's arrival until its response ended or its tunnel closed")
                    .tags("listener", listener, "kind", kind.name())
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry);
            wouldDeny = Counter.builder("tollgate.would.deny")
                    .description("Report mode: requests and tunnels let through that a rule or limit would have refused")
                    .tags("listener", listener, "kind", kind.name())
                    .register(registry);
        }

        private Counter bytes(String listener, String direction) {
            return Counter.builder("tollgate.bytes").description("Body and tunnel payload bytes, by direction")
                    .baseUnit("bytes").tags("listener", listener, "direction", direction).register(registry);
        }
    }
}
