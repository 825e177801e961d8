package dev.tollgate.admin.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.admin.AdminTokens;
import dev.tollgate.admin.Role;
import dev.tollgate.store.AdminEvent;
import dev.tollgate.store.AdminEventLog;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every admin call passes here, in this order: the Host check (DNS rebinding), the route (404, or 405 with
 * Allow), the bearer token (401) and its role (403), the resource, and for mutating routes an entry in the
 * admin-event trail, refused or not. Errors leave as {"error": "..."}; an unexpected exception is a 500 with
 * no stack trace in the body.
 */
public final class ApiDispatcher extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(ApiDispatcher.class);
    private static final String BEARER = "bearer ";

    private final List<Route> routes;
    private final AdminTokens tokens;
    private final AllowedHosts allowedHosts;
    private final String node;
    private final AdminEventLog events;
    private final ObjectMapper json;

    public ApiDispatcher(List<Route> routes, AdminTokens tokens, AllowedHosts allowedHosts, String node,
                         AdminEventLog events, ObjectMapper json) {
        this.routes = List.copyOf(routes);
        this.tokens = tokens;
        this.allowedHosts = allowedHosts;
        this.node = node;
        this.events = events;
        this.json = json;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        Map<String, String> params = new HashMap<>();
        Route route = null;
        Role role = null;
        ApiExchange exchange = null;
        ApiExchange errorAnswer = null;
        String detail = null;
        try {
            allowedHosts.check(request);
            route = route(request.getMethod(), path, params);
            role = authenticate(request, route);
            checkRole(role, route);
            exchange = new ApiExchange(request, response, role, params, json, route.action() != null);
            route.handler().handle(exchange);
            detail = exchange.detail();
        } catch (ApiException e) {
            detail = e.getMessage();
            errorAnswer = sendError(request, response, e);
        } catch (Exception e) {
            detail = "internal error";
            LOG.error("admin API: {} {} failed", request.getMethod(), path, e);
            errorAnswer = sendError(request, response, new ApiException(500, "internal error: see the daemon's log"));
        }
        if (route == null) {
            // Refused before routing (a foreign Host: DNS rebinding): a call to a mutating route is audited all
            // the same, with no role, since the token was never looked at.
            route = routeOrNull(request.getMethod(), path, params);
        }
        if (route != null && route.action() != null) {
            // Before the answer's body goes out: a client that saw its change answered finds it in the trail.
            audit(request, response, route, role, exchange, params, detail);
        }
        release(errorAnswer != null ? errorAnswer : exchange);
        callback.succeeded();
        return true;
    }

    private static void release(ApiExchange answer) {
        if (answer == null) {
            return;
        }
        try {
            answer.release();
        } catch (Exception e) {
            LOG.debug("could not send an admin API answer", e);
        }
    }

    private Route route(String method, String path, Map<String, String> params) throws ApiException {
        Set<String> allowed = new LinkedHashSet<>();
        for (Route candidate : routes) {
            Map<String, String> found = new HashMap<>();
            if (candidate.matches(path, found)) {
                if (candidate.method().equals(method)) {
                    params.putAll(found);
                    return candidate;
                }
                allowed.add(candidate.method());
            }
        }
        if (allowed.isEmpty()) {
            throw new ApiException(404, "no such endpoint: " + path + " (see docs/admin-api.md)");
        }
        throw new ApiException(405, method + " is not allowed on " + path + "; allowed: "
                + String.join(", ", allowed), Map.of("Allow", String.join(", ", allowed)));
    }

    /** The route of a call, or null for a path or method the API does not have. */
    private Route routeOrNull(String method, String path, Map<String, String> params) {
        try {
            return route(method, path, params);
        } catch (ApiException notRouted) {
            return null;
        }
    }

    /** The caller's role from its bearer token: 401 without a valid one. Null on the public route. */
    private Role authenticate(Request request, Route route) throws ApiException {
        if (route.needed() == null) {
            return null;
        }
        String authorization = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        Optional<Role> role = Optional.empty();
        if (authorization != null && authorization.length() > BEARER.length()
                && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            role = tokens.roleOf(authorization.substring(BEARER.length()).trim());
        }
        if (role.isEmpty()) {
            throw new ApiException(401, authorization == null
                    ? "missing Authorization: Bearer <token> (the tokens are in the state directory)"
                    : "the bearer token is not valid", Map.of("WWW-Authenticate", "Bearer realm=\"tollgate\""));
        }
        return role.get();
    }

    private static void checkRole(Role role, Route route) throws ApiException {
        if (route.needed() != null && !role.mayAct(route.needed())) {
            throw new ApiException(403, "the " + role.name().toLowerCase(Locale.ROOT) + " token may only read;"
                    + " this call needs the admin token");
        }
    }

    /** Sets the error's status and headers and holds its body until {@link ApiExchange#release()}. */
    private ApiExchange sendError(Request request, Response response, ApiException error) {
        if (response.isCommitted()) {
            // A streamed answer broke off: nothing can be said any more but a cut connection.
            return null;
        }
        try {
            response.reset();
            error.headers().forEach((name, value) -> response.getHeaders().put(name, value));
            ApiExchange answer = new ApiExchange(request, response, null, Map.of(), json, true);
            answer.sendJson(error.status(), Map.of("error", error.getMessage()));
            return answer;
        } catch (Exception e) {
            LOG.debug("could not send an admin API error", e);
            return null;
        }
    }

    private void audit(Request request, Response response, Route route, Role role, ApiExchange exchange,
                       Map<String, String> params, String detail) {
        int status = response.getStatus();
        String subject = exchange != null ? exchange.subject() : params.get("name");
        try {
            events.record(new AdminEvent(null, Instant.now(), node, role == null ? "NONE" : role.name(),
                    Request.getRemoteAddr(request), route.action(), subject, status < 400 ? "OK" : "REFUSED",
                    status, detail));
        } catch (Exception e) {
            LOG.warn("admin API: could not record {} on {} in the admin-event trail", route.action(), subject, e);
        }
    }
}
