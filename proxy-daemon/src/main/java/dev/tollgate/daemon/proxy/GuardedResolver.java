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

    GuardedResolver(SocketAddressResolver delegate, LoopGuard loopGuard, AccessPolicy policy) {
        this.delegate = delegate;
        this.loopGuard = loopGuard;
        this.policy = policy;
    }

    @Override
    public void resolve(String host, int port, Map<String, Object> context, Promise<List<InetSocketAddress>> promise) {
        delegate.resolve(host, port, context, new Promise<>() {
            @Override
            public void succeeded(List<InetSocketAddress> addresses) {
                try {
                    for (InetSocketAddress address : addresses) {
                        loopGuard.checkDestination(address);
                        policy.checkDestination(address.getAddress());
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
