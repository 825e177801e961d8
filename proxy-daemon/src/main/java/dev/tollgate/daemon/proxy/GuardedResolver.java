package dev.tollgate.daemon.proxy;

import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Resolves a destination once and checks every address it resolved to against the loop guard and the
 * listener's destination policy before Jetty's HttpClient dials it. Because the client dials exactly the
 * addresses handed back here, a DNS answer cannot change between the check and the connect.
 */
final class GuardedResolver implements SocketAddressResolver {

    private final SocketAddressResolver delegate;
    private final LoopGuard loopGuard;
    private final AccessPolicy policy;
    private final ParentProxy parent;

    GuardedResolver(SocketAddressResolver delegate, LoopGuard loopGuard, AccessPolicy policy, ParentProxy parent) {
        this.delegate = delegate;
        this.loopGuard = loopGuard;
        this.policy = policy;
        this.parent = parent;
    }

    /**
     * Called by HttpClient before it dials {@code host}: an origin, or the parent proxy. The parent is only
     * checked against the loop guard (the destination rules were applied to the request's own destination).
     */
    @Override
    public void resolve(String host, int port, Map<String, Object> context, Promise<List<InetSocketAddress>> promise) {
        boolean toParent = !parent.isDirect() && host.equalsIgnoreCase(parent.host()) && port == parent.port();
        delegate.resolve(host, port, context, new Promise<>() {
            @Override
            public void succeeded(List<InetSocketAddress> addresses) {
                try {
                    for (InetSocketAddress address : addresses) {
                        loopGuard.checkDestination(address);
                        if (!toParent) {
                            policy.checkDestination(host, address.getAddress());
                        }
                    }
                } catch (RequestRefusedException refused) {
                    promise.failed(refused);
                    return;
                }
                promise.succeeded(addresses);
            }

            @Override
            public void failed(Throwable failure) {
                promise.failed(failure);
            }
        });
    }
}
