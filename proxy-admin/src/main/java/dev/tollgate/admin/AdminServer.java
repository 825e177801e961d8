package dev.tollgate.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The admin REST API on its own small Jetty server, apart from the proxy listeners. For now it answers
 * {@code GET /api/v1/health}; every other path is a JSON 404.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HEALTH = "/api/v1/health";

    private final Server server;
    private final ServerConnector connector;

    public AdminServer(String host, int port, ProxyControl control) {
        QueuedThreadPool threads = new QueuedThreadPool(8, 2);
        threads.setName("tollgate-admin");
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost(host);
        connector.setPort(port);
        connector.setName("admin");
        server.addConnector(connector);
        server.setHandler(new Routes(control));
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
        server.stop();
    }

    private static final class Routes extends Handler.Abstract {
        private final ProxyControl control;

        Routes(ProxyControl control) {
            this.control = control;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = Request.getPathInContext(request);
            if (HEALTH.equals(path)) {
                if (!HttpMethod.GET.is(request.getMethod())) {
                    response.getHeaders().put(HttpHeader.ALLOW, "GET");
                    return json(response, callback, 405, Map.of("error", request.getMethod()
                            + " is not allowed on " + HEALTH + "; use GET"));
                }
                ProxyControl.Health health = control.health();
                return json(response, callback, "DOWN".equals(health.status()) ? 503 : 200, health);
            }
            return json(response, callback, 404, Map.of("error", "no such endpoint: " + path));
        }

        private static boolean json(Response response, Callback callback, int status, Object body) throws Exception {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(body)), callback);
            return true;
        }
    }
}
