package dev.tollgate.admin.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.store.AccessLogReader;
import dev.tollgate.store.AccessQuery;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.AccessRecordFields;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpHeader;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code GET /api/v1/access-log}: the access log filtered and paged by id, as JSON
 * ({@code {"records": [...], "next": <id or null>}}) or, with {@code Accept: text/csv}, as RFC 4180 CSV with a
 * header line, streamed from the database (without {@code limit}, a CSV export has every matching row).
 */
public final class AccessLogResource {

    /** The filter's query parameters, which the live tail ({@link AccessLogTailResource}) takes too. */
    static final Set<String> FILTER = Set.of("since", "until", "host", "client", "method", "status", "listener",
            "username", "outcome", "kind", "node");
    private static final Set<String> PARAMETERS = Stream.concat(FILTER.stream(), Stream.of("limit", "after"))
            .collect(Collectors.toUnmodifiableSet());

    private final AccessLogReader reader;
    private final ObjectMapper json;

    public AccessLogResource(AccessLogReader reader, ObjectMapper json) {
        this.reader = reader;
        this.json = json;
    }

    public void query(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(PARAMETERS);
        AccessQuery query = filter(exchange);
        String accept = exchange.header(HttpHeader.ACCEPT);
        if (accept != null && accept.toLowerCase(Locale.ROOT).contains("text/csv")) {
            csv(exchange, query, exchange.query("limit") != null);
            return;
        }
        List<Map<String, Object>> records = new ArrayList<>();
        long lastId = 0;
        for (AccessRecord record : reader.page(query)) {
            records.add(AccessRecordFields.asMap(record));
            lastId = record.id();
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("records", records);
        body.put("next", records.size() == query.limit() ? lastId : null);
        exchange.sendJson(200, body);
    }

    private void csv(ApiExchange exchange, AccessQuery query, boolean paged) throws Exception {
        try (Writer out = new BufferedWriter(new OutputStreamWriter(
                exchange.stream(200, "text/csv; charset=utf-8; header=present"), StandardCharsets.UTF_8), 65_536)) {
            CsvWriter csv = new CsvWriter(out);
            csv.row(AccessRecordFields.COLUMNS);
            try {
                if (paged) {
                    reader.query(query, record -> writeRow(csv, record));
                } else {
                    reader.streamAll(query, record -> writeRow(csv, record));
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    private static void writeRow(CsvWriter csv, AccessRecord record) {
        try {
            csv.row(AccessRecordFields.values(record));
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The query the call's parameters describe: the filter, and {@code limit} and {@code after} when given; 400
     * with the parameter's name for a value that does not parse. The caller has refused unknown parameters.
     */
    static AccessQuery filter(ApiExchange exchange) throws ApiException {
        AccessQuery query = AccessQuery.all();
        try {
            query = query.withSince(instant("since", exchange.query("since")))
                    .withUntil(instant("until", exchange.query("until")))
                    .withHost(exchange.query("host"))
                    .withClient(exchange.query("client"))
                    .withMethod(exchange.query("method"))
                    .withListener(exchange.query("listener"))
                    .withUsername(exchange.query("username"))
                    .withOutcome(enumValue("outcome", Outcome.class, exchange.query("outcome")))
                    .withKind(enumValue("kind", Kind.class, exchange.query("kind")))
                    .withNode(exchange.query("node"));
            String status = exchange.query("status");
            if (status != null) {
                query = status(query, status);
            }
            String limit = exchange.query("limit");
            if (limit != null) {
                query = query.withLimit(wholeNumber("limit", limit));
            }
            String after = exchange.query("after");
            if (after != null) {
                query = query.withAfter(id("after", after));
            }
            return query;
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
    }

    private static AccessQuery status(AccessQuery query, String status) {
        if (status.length() == 3 && status.toLowerCase(Locale.ROOT).endsWith("xx")
                && Character.isDigit(status.charAt(0))) {
            return query.withStatusClass(status.charAt(0) - '0');
        }
        return query.withStatusCode(wholeNumber("status", status));
    }

    /** {@code value} as an instant, null when absent; the summary endpoints parse theirs with it too. */
    static Instant instant(String key, String value) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(key + ": \"" + value + "\" is not an ISO-8601 instant such as"
                    + " 2026-11-27T08:00:00Z");
        }
    }

    /** {@code value} as a constant of {@code type}, in any case; null when absent. Shared with SummaryResource. */
    static <E extends Enum<E>> E enumValue(String key, Class<E> type, String value) {
        if (value == null) {
            return null;
        }
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> known = new ArrayList<>();
            for (E constant : type.getEnumConstants()) {
                known.add(constant.name());
            }
            throw new IllegalArgumentException(key + ": \"" + value + "\" is not one of " + known);
        }
    }

    /** A row id: 64 bits, like the column, so that a cursor past 2^31 is still a cursor. */
    static long id(String key, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": \"" + value + "\" is not a whole number");
        }
    }

    private static int wholeNumber(String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": \"" + value + "\" is not a whole number");
        }
    }
}
