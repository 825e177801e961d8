package dev.tollgate.admin;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tollgate.admin.internal.AccessLogResource;
import dev.tollgate.admin.internal.AccessLogTailResource;
import dev.tollgate.admin.internal.AdminEventsResource;
import dev.tollgate.admin.internal.AllowedHosts;
import dev.tollgate.admin.internal.ApiDispatcher;
import dev.tollgate.admin.internal.BackupResource;
import dev.tollgate.admin.internal.ConsoleFiles;
import dev.tollgate.admin.internal.JsonErrorHandler;
import dev.tollgate.admin.internal.ListenersResource;
import dev.tollgate.admin.internal.MetricsResource;
import dev.tollgate.admin.internal.ReloadResource;
import dev.tollgate.admin.internal.Route;
import dev.tollgate.admin.internal.StatsResource;
import dev.tollgate.admin.internal.SummaryResource;
import dev.tollgate.admin.internal.WhoAmIResource;
import dev.tollgate.store.AccessLog;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.Set;

/**
 * The admin REST API on its own small Jetty server, apart from the proxy listeners: JSON over HTTP, bearer
 * tokens with two roles, a Host check against DNS rebinding, and every mutating call written to the
 * admin-event trail. The route table below is the whole API. The same port serves the auditor's console
 * ({@code /console/}, docs/console.md): static files that call this API with the token the user pastes.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    private final Server server;
    private final ServerConnector connector;
    private final AccessLogTailResource tail;

    /**
     * @param host         bind address
     * @param port         bind port (0: any free port)
     * @param allowedHosts Host header names accepted besides the bind address, localhost, 127.0.0.1 and [::1]
     * @param node         this daemon's node name, for the admin-event trail
     * @param control      the daemon
     * @param tokens       the bearer tokens
     * @param accessLog    the store, for access-log queries and the admin-event trail
     */
    public AdminServer(String host, int port, Set<String> allowedHosts, String node, ProxyControl control,
                       AdminTokens tokens, AccessLog accessLog) {
        ObjectMapper json = JsonMapper.builder().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                // A request body is read as strictly as tollgate.json: one value, no text after it, no key twice.
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .build();
        ListenersResource listeners = new ListenersResource(control);
        StatsResource stats = new StatsResource(control);
        AccessLogResource accessLogResource = new AccessLogResource(accessLog.reader(), json);
        SummaryResource summary = new SummaryResource(accessLog.summary(), Clock.systemUTC());
        AdminEventsResource adminEvents = new AdminEventsResource(accessLog.adminEvents());
        MetricsResource metrics = new MetricsResource(control);
        ReloadResource reload = new ReloadResource(control);
        BackupResource backup = new BackupResource(control);
        WhoAmIResource whoami = new WhoAmIResource();
        tail = new AccessLogTailResource(accessLog.reader(), json);

        List<Route> routes = List.of(
                new Route("GET", "/api/v1/health", null, null, stats::health),
                new Route("GET", "/api/v1/whoami", Role.AUDITOR, null, whoami::whoami),
                new Route("GET", "/api/v1/listeners", Role.AUDITOR, null, listeners::list),
                new Route("POST", "/api/v1/listeners", Role.ADMIN, "listener.create", listeners::create),
                new Route("GET", "/api/v1/listeners/{name}", Role.AUDITOR, null, listeners::get),
                new Route("DELETE", "/api/v1/listeners/{name}", Role.ADMIN, "listener.delete", listeners::delete),
                new Route("POST", "/api/v1/listeners/{name}/start", Role.ADMIN, "listener.start", listeners::start),
                new Route("POST", "/api/v1/listeners/{name}/stop", Role.ADMIN, "listener.stop", listeners::stop),
                new Route("POST", "/api/v1/reload", Role.ADMIN, "config.reload", reload::reload),
                new Route("POST", "/api/v1/backup", Role.ADMIN, "database.backup", backup::backup),
                new Route("GET", "/api/v1/stats", Role.AUDITOR, null, stats::stats),
                new Route("GET", "/api/v1/tunnels", Role.AUDITOR, null, stats::tunnels),
                new Route("GET", "/api/v1/access-log", Role.AUDITOR, null, accessLogResource::query),
                new Route("GET", "/api/v1/access-log/tail", Role.AUDITOR, null, tail::tail),
                new Route("GET", "/api/v1/summary/series", Role.AUDITOR, null, summary::series),
                new Route("GET", "/api/v1/summary/top", Role.AUDITOR, null, summary::top),
                new Route("GET", "/api/v1/admin-events", Role.AUDITOR, null, adminEvents::page),
                new Route("GET", "/metrics", Role.AUDITOR, null, metrics::scrape));

        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("tollgate-admin");
        server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        connector.setName("admin");
        server.addConnector(connector);
        AllowedHosts names = new AllowedHosts(host, allowedHosts);
        server.setHandler(new Handler.Sequence(new ConsoleFiles(names, json),
                new ApiDispatcher(routes, tokens, names, node, accessLog.adminEvents(), json)));
        server.setErrorHandler(new JsonErrorHandler(json));
        server.setStopTimeout(2_000);
    }

    /** Binds and starts serving; throws when the address cannot be bound. */
    public void start() throws Exception {
        server.start();
        LOG.info("admin - listening on {}:{}", connector.getHost(), connector.getLocalPort());
    }

    /** The port actually bound (useful when configured as 0). */
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        // A tail polls until told to stop: end them first, so that the server's stop does not wait for them.
        tail.close();
        server.stop();
    }
}
