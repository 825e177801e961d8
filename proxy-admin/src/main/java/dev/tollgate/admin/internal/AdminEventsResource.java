package dev.tollgate.admin.internal;

import dev.tollgate.store.AdminEvent;
import dev.tollgate.store.AdminEventLog;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code GET /api/v1/admin-events}: who changed what through the API, paged like the access log. */
public final class AdminEventsResource {

    private static final int DEFAULT_LIMIT = 100;

    private final AdminEventLog events;

    public AdminEventsResource(AdminEventLog events) {
        this.events = events;
    }

    public void page(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of("limit", "after"));
        int limit = (int) number(exchange, "limit", DEFAULT_LIMIT, 1, AdminEventLog.MAX_LIMIT);
        long after = number(exchange, "after", 0, 0, Long.MAX_VALUE);
        List<Map<String, Object>> page = new ArrayList<>();
        long lastId = 0;
        for (AdminEvent event : events.page(after, limit)) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("id", event.id());
            fields.put("ts", event.ts().toString());
            fields.put("node", event.node());
            fields.put("role", event.role());
            fields.put("client_addr", event.clientAddr());
            fields.put("action", event.action());
            fields.put("listener", event.listener());
            fields.put("result", event.result());
            fields.put("status", event.status());
            fields.put("detail", event.detail());
            page.add(fields);
            lastId = event.id();
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("events", page);
        body.put("next", page.size() == limit ? lastId : null);
        exchange.sendJson(200, body);
    }

    /** Query parameter {@code key} as a whole number from {@code min} to {@code max}: a 400 otherwise. */
    static long number(ApiExchange exchange, String key, long defaultValue, long min, long max)
            throws ApiException {
        String value = exchange.query(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            long number = Long.parseLong(value);
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ApiException(400, key + ": \"" + value + "\" is not a whole number from " + min + " to " + max);
    }
}
