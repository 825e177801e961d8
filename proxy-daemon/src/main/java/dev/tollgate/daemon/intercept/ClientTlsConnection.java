package dev.tollgate.daemon.intercept;

import dev.tollgate.daemon.exchange.TunnelSession;
import dev.tollgate.daemon.tls.ClientHello;
import dev.tollgate.daemon.tls.ClientHelloReader;
import dev.tollgate.daemon.tls.LeafKeyManager;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;

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
    /** Reads the client's ClientHello for the tunnel row's alpn, tls_version and ja4; null once it has. */
    private ClientHelloReader helloReader = new ClientHelloReader();

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

    /**
     * Reads what the client sent as Jetty's TLS engine receives it: the first record, the ClientHello, is also read
     * by the reader tunnels use, so that an intercepted tunnel's row has the same columns as any tunnel's.
     */
    @Override
    protected int networkFill(ByteBuffer input) throws IOException {
        int from = input.limit();
        int read = super.networkFill(input);
        if (read > 0 && helloReader != null) {
            ByteBuffer fresh = input.duplicate();
            fresh.position(from);
            ClientHello hello = helloReader.offer(fresh);
            if (hello != null) {
                session.clientHello = hello;
                helloReader = null;
            }
        }
        return read;
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        session.interceptionClosed(getBytesIn(), getBytesOut(), handshakeFailure, certificateSent, cause);
        closed.accept(session);
    }
}
