package dev.tollgate.admin.internal;

import dev.tollgate.admin.BackupReport;
import dev.tollgate.admin.ProxyControl;

import java.util.Set;

/** {@code POST /api/v1/backup}: an online backup of the access-log database into the state directory. */
public final class BackupResource {

    private final ProxyControl control;

    public BackupResource(ProxyControl control) {
        this.control = control;
    }

    public void backup(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        BackupReport report = ControlCalls.call(control::backup);
        exchange.detail(report.file() + " (" + report.bytes() + " bytes)");
        exchange.sendJson(201, report);
    }
}
