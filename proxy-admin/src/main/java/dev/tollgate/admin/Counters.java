package dev.tollgate.admin;

import java.util.Map;

/**
 * Live traffic counters of one listener, or of all of them together, since the daemon started.
 *
 * @param requests              access records: forwarded requests, tunnels and refusals
 * @param requestsByStatusClass the same by the status sent: keys 1xx, 2xx, 3xx, 4xx, 5xx (all present)
 * @param bytesFromClients      body (tunnel: payload) bytes received from clients
 * @param bytesToClients        body (tunnel: payload) bytes sent to clients
 * @param activeConnections     client connections open now
 * @param activeTunnels         CONNECT tunnels open now
 * @param tunnelsOpened         CONNECT tunnels established
 * @param refusalsByOutcome     requests not forwarded, by outcome (DENIED, LOOP, BAD_REQUEST, ...; only those seen)
 * @param upstreamFailures      requests that failed at the origin (UPSTREAM_UNREACHABLE, _TIMEOUT, _RESET)
 * @param wouldDeny             requests and tunnels a listener in report mode let through that an egress rule
 *                              would have refused (rows with outcome OK and reason {@code WOULD_DENY: ...})
 */
public record Counters(
        long requests,
        Map<String, Long> requestsByStatusClass,
        long bytesFromClients,
        long bytesToClients,
        long activeConnections,
        long activeTunnels,
        long tunnelsOpened,
        Map<String, Long> refusalsByOutcome,
        long upstreamFailures,
        long wouldDeny) {
}
