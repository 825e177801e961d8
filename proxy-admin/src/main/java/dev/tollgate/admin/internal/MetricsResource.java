package dev.tollgate.admin.internal;

import dev.tollgate.admin.ProxyControl;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** {@code GET /metrics}: Prometheus text exposition format 0.0.4. */
public final class MetricsResource {

    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final ProxyControl control;

    public MetricsResource(ProxyControl control) {
        this.control = control;
    }

    public void scrape(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        byte[] body = control.prometheusMetrics().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = exchange.stream(200, CONTENT_TYPE)) {
            out.write(body);
        }
    }
}
