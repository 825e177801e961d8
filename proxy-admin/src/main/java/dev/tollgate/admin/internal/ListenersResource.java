package dev.tollgate.admin.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.admin.ListenerView;
import dev.tollgate.admin.ProxyControl;

import java.util.Map;
import java.util.Set;

import static dev.tollgate.admin.internal.ControlCalls.call;

/** {@code /api/v1/listeners}: list, create, read, start, stop and delete listeners at runtime. */
public final class ListenersResource {

    /** How long a stop or delete lets open requests and tunnels finish unless {@code drainMs} says otherwise. */
    public static final long DEFAULT_DRAIN_MS = 10_000;
    private static final long MAX_DRAIN_MS = 3_600_000;

    private final ProxyControl control;

    public ListenersResource(ProxyControl control) {
        this.control = control;
    }

    public void list(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        exchange.sendJson(200, Map.of("listeners", control.listeners()));
    }

    public void get(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        String name = exchange.pathParameter("name");
        ListenerView view = control.listener(name).orElseThrow(() -> notFound(name));
        exchange.sendJson(200, view);
    }

    public void create(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        JsonNode definition = exchange.readJson();
        if (!definition.isObject()) {
            throw new ApiException(400, "the body must be a listener object, as in tollgate.json's listeners[]");
        }
        if (definition.hasNonNull("name")) {
            exchange.subject(definition.get("name").asText());
        }
        exchange.sendJson(201, call(() -> control.createListener(definition)));
    }

    public void start(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        String name = exchange.pathParameter("name");
        exchange.sendJson(200, call(() -> control.startListener(name)));
    }

    public void stop(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of("drainMs"));
        String name = exchange.pathParameter("name");
        long drainMs = drainMs(exchange);
        exchange.sendJson(200, call(() -> control.stopListener(name, drainMs)));
    }

    public void delete(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of("drainMs"));
        String name = exchange.pathParameter("name");
        long drainMs = drainMs(exchange);
        call(() -> {
            control.deleteListener(name, drainMs);
            return null;
        });
        exchange.sendNoContent();
    }

    private static long drainMs(ApiExchange exchange) throws ApiException {
        String value = exchange.query("drainMs");
        if (value == null) {
            return DEFAULT_DRAIN_MS;
        }
        try {
            long drainMs = Long.parseLong(value);
            if (drainMs >= 0 && drainMs <= MAX_DRAIN_MS) {
                return drainMs;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ApiException(400, "drainMs: \"" + value + "\" is not a whole number from 0 to " + MAX_DRAIN_MS);
    }

    private static ApiException notFound(String name) {
        return new ApiException(404, "no listener named \"" + name + "\"");
    }
}
