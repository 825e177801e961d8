package dev.tollgate.daemon.proxy;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * The {@link GuardedResolver} over Jetty's asynchronous resolver, built on first use because the client's
 * executor and scheduler exist only once it has started.
 */
final class LazyGuardedResolver implements SocketAddressResolver {

    private final HttpClient client;
    private final LoopGuard loopGuard;
    private final AccessPolicy policy;
    private final ParentProxy parent;
    private volatile SocketAddressResolver resolver;

    LazyGuardedResolver(HttpClient client, LoopGuard loopGuard, AccessPolicy policy, ParentProxy parent) {
        this.client = client;
        this.loopGuard = loopGuard;
        this.policy = policy;
        this.parent = parent;
    }

    @Override
    public void resolve(String host, int port, Map<String, Object> context, Promise<List<InetSocketAddress>> promise) {
        SocketAddressResolver current = resolver;
        if (current == null) {
            current = new GuardedResolver(new SocketAddressResolver.Async(client.getExecutor(),
                    client.getScheduler(), client.getAddressResolutionTimeout()), loopGuard, policy, parent);
            resolver = current;
        }
        current.resolve(host, port, context, promise);
    }
}
