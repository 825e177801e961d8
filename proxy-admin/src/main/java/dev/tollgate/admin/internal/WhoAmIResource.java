package dev.tollgate.admin.internal;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /api/v1/whoami}: the role of the token sent, {@code {"role": "admin"}} or {@code "auditor"}. The
 * console asks it once after sign-in, to know a good token from a bad one and which buttons to offer.
 */
public final class WhoAmIResource {

    public void whoami(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(Set.of());
        exchange.sendJson(200, Map.of("role", exchange.role().name().toLowerCase(Locale.ROOT)));
    }
}
