package dev.tollgate.admin.internal;

import dev.tollgate.admin.ProxyControl;
import dev.tollgate.admin.ReloadReport;

import java.util.Set;

/** {@code POST /api/v1/reload}: re-reads tollgate.json and applies it, as SIGHUP does. */
public final class ReloadResource {

    private final ProxyControl control;

    public ReloadResource(ProxyControl control) {
        this.control = control;
    }

    public void reload(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        ReloadReport report = ControlCalls.call(control::reload);
        exchange.detail(report.summary());
        exchange.sendJson(200, report);
    }
}
