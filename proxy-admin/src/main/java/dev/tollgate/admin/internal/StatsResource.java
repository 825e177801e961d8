package dev.tollgate.admin.internal;

import dev.tollgate.admin.ProxyControl;

import java.util.Map;
import java.util.Set;

/** {@code GET /api/v1/stats} and {@code GET /api/v1/tunnels}: live counters and open tunnels. */
public final class StatsResource {

    private final ProxyControl control;

    public StatsResource(ProxyControl control) {
        this.control = control;
    }

    public void stats(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        exchange.sendJson(200, control.stats());
    }

    public void tunnels(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        exchange.sendJson(200, Map.of("tunnels", control.tunnels()));
    }

    public void health(ApiExchange exchange) throws Exception {
        ProxyControl.Health health = control.health();
        exchange.sendJson("DOWN".equals(health.status()) ? 503 : 200, health);
    }
}
