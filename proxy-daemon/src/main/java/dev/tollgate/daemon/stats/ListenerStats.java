package dev.tollgate.daemon.stats;

import dev.tollgate.admin.Counters;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one listener (or of all together), fed by access records; cheap to update from any thread. */
final class ListenerStats {

    private final LongAdder requests = new LongAdder();
    private final LongAdder[] byStatusClass = new LongAdder[StatusClass.values().length];
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesToClients = new LongAdder();
    private final LongAdder tunnelsOpened = new LongAdder();
    private final Map<Outcome, LongAdder> refusals = new EnumMap<>(Outcome.class);
    private final LongAdder upstreamFailures = new LongAdder();
    private final LongAdder wouldDeny = new LongAdder();

    ListenerStats() {
        for (int i = 0; i < byStatusClass.length; i++) {
            byStatusClass[i] = new LongAdder();
        }
        for (Outcome outcome : Outcome.values()) {
            refusals.put(outcome, new LongAdder());
        }
    }

    void add(AccessRecord record) {
        requests.increment();
        byStatusClass[StatusClass.of(record.status()).ordinal()].increment();
        bytesFromClients.add(record.bytesFromClient());
        bytesToClients.add(record.bytesToClient());
        if (record.kind() == Kind.TUNNEL && record.status() == 200) {
            tunnelsOpened.increment();
        }
        if (isUpstreamFailure(record.outcome())) {
            upstreamFailures.increment();
        } else if (record.outcome() != Outcome.OK && record.outcome() != Outcome.CLIENT_ABORT) {
            refusals.get(record.outcome()).increment();
        }
        if (record.outcome() == Outcome.OK && record.reason() != null
                && record.reason().startsWith(WOULD_DENY)) {
            wouldDeny.increment();
        }
    }

    Counters snapshot(long activeConnections, long activeTunnels) {
        Map<String, Long> statusClasses = new LinkedHashMap<>();
        for (StatusClass statusClass : StatusClass.DEFINED) {
            statusClasses.put(statusClass.label, byStatusClass[statusClass.ordinal()].sum());
        }
        Map<String, Long> refusalsByOutcome = new LinkedHashMap<>();
        refusals.forEach((outcome, count) -> {
            long sum = count.sum();
            if (sum > 0) {
                refusalsByOutcome.put(outcome.name(), sum);
            }
        });
        return new Counters(requests.sum(), statusClasses, bytesFromClients.sum(), bytesToClients.sum(),
                activeConnections, activeTunnels, tunnelsOpened.sum(), refusalsByOutcome, upstreamFailures.sum(),
                wouldDeny.sum());
    }

    /** The start of a report-mode row's reason (TunnelSession.WOULD_DENY; stats does not depend on proxy). */
    static final String WOULD_DENY = "WOULD_DENY: ";

    static boolean isUpstreamFailure(Outcome outcome) {
        return outcome == Outcome.UPSTREAM_UNREACHABLE || outcome == Outcome.UPSTREAM_TIMEOUT
                || outcome == Outcome.UPSTREAM_RESET;
    }
}
