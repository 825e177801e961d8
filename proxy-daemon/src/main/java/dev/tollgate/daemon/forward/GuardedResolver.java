package dev.tollgate.daemon.forward;

import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.upstream.ParentProxy;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Resolves a destination once and checks every address it resolved to at the admission gate
 * ({@link AdmissionGate#checkDial}) before Jetty's HttpClient dials it. Because the client dials exactly the
 * addresses handed back here, a DNS answer cannot change between the check and the connect.
 */
public final class GuardedResolver implements SocketAddressResolver {

    private final SocketAddressResolver delegate;
    private final AdmissionGate gate;
    private final ParentProxy parent;

    public GuardedResolver(SocketAddressResolver delegate, AdmissionGate gate, ParentProxy parent) {
        this.delegate = delegate;
        this.gate = gate;
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
                        if (toParent) {
                            gate.checkParentDial(address);
                        } else {
                            gate.checkDial(host, address.getAddress(), address.getPort(),
                                    AdmissionGate.Exchange.FORWARD);
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
