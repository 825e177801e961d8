package dev.tollgate.store;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An access record as Tollgate shows it outside the database, in the admin API's JSON and CSV and in the push
 * sinks' messages alike: the columns of table {@code access_log}, with the same names, {@code ts} as ISO-8601 UTC.
 */
public final class AccessRecordFields {

    public static final List<String> COLUMNS = List.of("id", "ts", "duration_ms", "node", "listener", "client_addr",
            "client_port", "username", "kind", "protocol", "method", "host", "port", "path", "status",
            "bytes_from_client", "bytes_to_client", "upstream_addr", "sni", "outcome", "reason", "alpn", "tls_version", "ja4");

    private AccessRecordFields() {
    }

    /** The record's values in {@link #COLUMNS} order. */
    public static Object[] values(AccessRecord r) {
        return new Object[] {r.id(), Instant.ofEpochMilli(r.tsMs()).toString(), r.durationMs(), r.node(),
                r.listener(), r.clientAddr(), r.clientPort(), r.username(), r.kind().name(), r.protocol(),
                r.method(), r.host(), r.port(), r.path(), r.status(), r.bytesFromClient(), r.bytesToClient(),
                r.upstreamAddr(), r.sni(), r.outcome().name(), r.reason(), r.alpn(), r.tlsVersion(), r.ja4()};
    }

    /** The record as a JSON object, every column present (null where the column is null). */
    public static Map<String, Object> asMap(AccessRecord r) {
        Object[] values = values(r);
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < COLUMNS.size(); i++) {
            map.put(COLUMNS.get(i), values[i]);
        }
        return map;
    }
}
