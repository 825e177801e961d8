package dev.tollgate.daemon.proxy;

import dev.tollgate.daemon.tls.LeafKeyManager;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;

import javax.net.ssl.SSLEngine;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The client's side of an intercepted tunnel: Jetty's TLS server connection, which also notes the SNI name
 * of a completed handshake (or why it failed) and records the tunnel's one row when it closes.
 */
final class ClientTlsConnection extends SslConnection {

    private final TunnelSession session;
    private final Consumer<TunnelSession> closed;
    private volatile Throwable handshakeFailure;
    /** Whether Tollgate had sent its certificate when the handshake failed: then the client refused it. */
    private volatile boolean certificateSent;

    ClientTlsConnection(ByteBufferPool pool, Executor executor, EndPoint endPoint, SSLEngine engine,
                        TunnelSession session, Consumer<TunnelSession> closed) {
        super(pool, executor, endPoint, engine);
        this.session = session;
        this.closed = closed;
        addHandshakeListener(new SslHandshakeListener() {
            @Override
            public void handshakeSucceeded(Event event) {
                session.sni = LeafKeyManager.requestedServerName(event.getSSLEngine().getSession());
            }

            @Override
            public void handshakeFailed(Event event, Throwable failure) {
                certificateSent = getBytesOut() > 0;
                handshakeFailure = failure;
            }
        });
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        session.interceptionClosed(getBytesIn(), getBytesOut(), handshakeFailure, certificateSent, cause);
        closed.accept(session);
    }
}
