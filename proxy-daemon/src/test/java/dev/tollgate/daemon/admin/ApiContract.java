package dev.tollgate.daemon.admin;

import dev.tollgate.store.Outcome;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

import static dev.tollgate.daemon.admin.JsonShape.arrayOf;
import static dev.tollgate.daemon.admin.JsonShape.bool;
import static dev.tollgate.daemon.admin.JsonShape.instant;
import static dev.tollgate.daemon.admin.JsonShape.integer;
import static dev.tollgate.daemon.admin.JsonShape.mapOf;
import static dev.tollgate.daemon.admin.JsonShape.mapWithKeys;
import static dev.tollgate.daemon.admin.JsonShape.nul;
import static dev.tollgate.daemon.admin.JsonShape.number;
import static dev.tollgate.daemon.admin.JsonShape.object;
import static dev.tollgate.daemon.admin.JsonShape.string;

/**
 * The admin API's JSON contract, written out once: every field of every answer with its JSON type, as
 * DESIGN.md ("Admin API") and the records in {@code dev.tollgate.admin} define them. Fields that may be null
 * come in two variants (running and stopped listener; OK and refused event) so that each test states which
 * one its setup produces.
 */
final class ApiContract {

    private ApiContract() {
    }

    /** Every error: {@code {"error": "..."}} and nothing else. */
    static final JsonShape ERROR = object().field("error", string());

    /** {@code GET /api/v1/health} when the store answers. */
    static final JsonShape HEALTH_UP = object()
            .field("status", string())
            .field("store", string())
            .field("reason", nul())
            .field("journal", object()
                    .field("records", integer())
                    .field("bytes", integer())
                    .field("oldestUnstoredAgeMs", integer()))
            .field("sinks", arrayOf(object()
                    .field("name", string())
                    .field("type", string())
                    .field("target", string())
                    .field("status", string())
                    .field("reason", nul())
                    .field("delivered", integer())
                    .field("retries", integer())
                    .field("skipped", integer())
                    .field("missing", integer())
                    .field("position", integer())
                    .field("lagRecords", integer())
                    .field("lagSeconds", number())));

    /** A listener's definition: the tollgate.json listener object with every default filled in. */
    static final JsonShape DEFINITION = object()
            .field("name", string())
            .field("host", string())
            .field("port", integer())
            .field("connectPorts", arrayOf(integer()))
            .field("allowClients", arrayOf(string()))
            .field("allowDestinations", arrayOf(string()))
            .field("denyDestinations", arrayOf(string()))
            .field("allowLocalHost", bool())
            .field("auth", object().field("type", string()).field("usersFile", nul()))
            .field("forwardedFor", string())
            .field("upstreamProxy", nul())
            .field("maxConnections", integer())
            .field("connectTimeoutMs", integer())
            .field("idleTimeoutMs", integer())
            .field("requestHeaderTimeoutMs", integer())
            .field("requestBodyStallTimeoutMs", integer())
            .field("logQuery", bool())
            .field("intercept", object().field("enabled", bool()).field("bypass", arrayOf(string()))
                    .field("trustBundle", nul()))
            .field("tls", object().field("clientHelloTimeoutMs", integer()).field("requireSniMatch", bool())
                    .field("allowMissingSni", bool()).field("domainRulesOnSni", bool()))
            .field("denyIpLiterals", bool())
            .field("allowMethods", arrayOf(string()))
            .field("mode", string())
            .field("limits", object()
                    .field("perClient", keyLimits()).field("perUser", keyLimits()).field("perHost", keyLimits())
                    .field("maxTunnelLifetimeMs", integer()).field("maxTrackedKeys", integer()));

    private static JsonShape keyLimits() {
        return object().field("requestsPerMinute", integer()).field("burst", integer())
                .field("maxTunnels", integer()).field("bytesPerSecond", integer());
    }

    static final Set<String> OUTCOMES = Arrays.stream(Outcome.values()).map(Enum::name)
            .collect(Collectors.toUnmodifiableSet());

    /** Live counters, of one listener or of all together. */
    static final JsonShape COUNTERS = object()
            .field("requests", integer())
            .field("requestsByStatusClass", mapWithKeys(integer(), Set.of("1xx", "2xx", "3xx", "4xx", "5xx")))
            .field("bytesFromClients", integer())
            .field("bytesToClients", integer())
            .field("activeConnections", integer())
            .field("activeTunnels", integer())
            .field("tunnelsOpened", integer())
            .field("refusalsByOutcome", mapOf(integer(), OUTCOMES))
            .field("upstreamFailures", integer())
            .field("wouldDeny", integer());

    /** A running listener: bound port and start time present. */
    static final JsonShape LISTENER_RUNNING = object()
            .field("name", string())
            .field("state", string())
            .field("origin", string())
            .field("boundPort", integer())
            .field("startedAt", instant())
            .field("definition", DEFINITION)
            .field("counters", COUNTERS);

    /** A stopped listener: no bound port, no start time. */
    static final JsonShape LISTENER_STOPPED = LISTENER_RUNNING.with("boundPort", nul()).with("startedAt", nul());

    static final JsonShape STATS = object()
            .field("node", string())
            .field("startedAt", instant())
            .field("uptimeMs", integer())
            .field("totals", COUNTERS)
            .field("listeners", mapOf(COUNTERS, null))
            .field("accessLog", object()
                    .field("queueDepth", integer())
                    .field("written", integer())
                    .field("failed", integer())
                    .field("dropped", integer())
                    .field("unlogged", integer()));

    static final JsonShape TUNNEL = object()
            .field("listener", string())
            .field("clientAddr", string())
            .field("clientPort", integer())
            .field("host", string())
            .field("port", integer())
            .field("upstreamAddr", string())
            .field("since", instant())
            .field("bytesFromClient", integer())
            .field("bytesToClient", integer());

    /**
     * One access-log record for a forwarded plain-HTTP request that went well: the 21 columns of table
     * access_log, with no proxy user, no SNI and no reason.
     */
    static final JsonShape ACCESS_RECORD_FORWARD_OK = object()
            .field("id", integer())
            .field("ts", instant())
            .field("duration_ms", integer())
            .field("node", string())
            .field("listener", string())
            .field("client_addr", string())
            .field("client_port", integer())
            .field("username", nul())
            .field("kind", string())
            .field("protocol", string())
            .field("method", string())
            .field("host", string())
            .field("port", integer())
            .field("path", string())
            .field("status", integer())
            .field("bytes_from_client", integer())
            .field("bytes_to_client", integer())
            .field("upstream_addr", string())
            .field("sni", nul())
            .field("outcome", string())
            .field("reason", nul())
            .field("alpn", nul())
            .field("tls_version", nul())
            .field("ja4", nul());

    /** An admin event for a call that succeeded (no detail). */
    static final JsonShape ADMIN_EVENT_OK = object()
            .field("id", integer())
            .field("ts", instant())
            .field("node", string())
            .field("role", string())
            .field("client_addr", string())
            .field("action", string())
            .field("listener", string())
            .field("result", string())
            .field("status", integer())
            .field("detail", nul());

    /** An admin event for a refused call: the error message answered is its detail. */
    static final JsonShape ADMIN_EVENT_REFUSED = ADMIN_EVENT_OK.with("detail", string());

    /** A page of the access log or of the admin events that is the last page: {@code next} is null. */
    static JsonShape lastPage(String arrayField, JsonShape element) {
        return object().field(arrayField, arrayOf(element)).field("next", nul());
    }
}
