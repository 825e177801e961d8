package dev.tollgate.daemon;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server's one handler: hands each request to the handler chain of the listener whose connector accepted
 * it. Listeners come and go at runtime, each with its own chain (and so its own policy). The chains are
 * managed beans of the router, so that stopping the server stops them (their selectors run on the server's
 * thread pool) before the thread pool itself.
 */
final class ListenerRouter extends Handler.AbstractContainer {

    private final Map<Connector, Handler> chains = new ConcurrentHashMap<>();

    /** Starts the chain (when the router runs) and routes the connector's requests to it. */
    void add(Connector connector, Handler chain) throws Exception {
        chain.setServer(getServer());
        addBean(chain, true);
        if (isStarted() && !chain.isStarted()) {
            chain.start();
        }
        chains.put(connector, chain);
    }

    /** Stops routing to the connector's chain and stops the chain. */
    void remove(Connector connector) throws Exception {
        Handler chain = chains.remove(connector);
        if (chain != null) {
            removeBean(chain);
            chain.stop();
        }
    }

    @Override
    public List<Handler> getHandlers() {
        return List.copyOf(chains.values());
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Handler chain = chains.get(request.getConnectionMetaData().getConnector());
        return chain != null && chain.handle(request, response, callback);
    }
}
