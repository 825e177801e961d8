package dev.tollgate.daemon.intercept;

import dev.tollgate.daemon.config.InterceptConfig;
import dev.tollgate.daemon.exchange.OriginFormMarker;
import dev.tollgate.daemon.exchange.TunnelSession;
import dev.tollgate.daemon.policy.AddressLiterals;
import dev.tollgate.daemon.policy.DomainPattern;
import dev.tollgate.daemon.tls.LeafCertificates;
import dev.tollgate.daemon.tls.LeafKeyManager;
import dev.tollgate.daemon.tunnel.Interception;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * TLS interception (as Squid's SslBump and mitmproxy): an allowed CONNECT is answered 200, then the client's
 * connection becomes a TLS server connection presenting a leaf certificate for the client's SNI name (the
 * CONNECT host when it sent none), and the decrypted bytes are read by an HTTP/1.1 connection of the same
 * listener, whose requests take the forwarding path of plain HTTP to {@code https://host:port}. Destinations
 * on the bypass list are tunnelled as before.
 */
public final class TlsInterception implements Interception {

    private final SSLContext context;
    private final List<DomainPattern> bypassNames = new ArrayList<>();
    private final List<InetAddress> bypassAddresses = new ArrayList<>();

    public TlsInterception(InterceptConfig config, LeafCertificates leaves) {
        for (String entry : config.bypass()) {
            if (DomainPattern.looksLikeDomain(entry)) {
                bypassNames.add(DomainPattern.parse(entry));
            } else {
                InetAddress address = AddressLiterals.parse(entry.trim());
                if (address == null) {
                    throw new IllegalArgumentException("intercept.bypass: \"" + entry + "\" is neither a domain"
                            + " pattern nor an address");
                }
                bypassAddresses.add(address);
            }
        }
        try {
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new LeafKeyManager(leaves)}, null, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM offers no TLS server context: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean intercepts(String host) {
        for (DomainPattern pattern : bypassNames) {
            if (pattern.matches(host)) {
                return false;
            }
        }
        InetAddress literal = AddressLiterals.parse(host);
        return literal == null || !bypassAddresses.contains(literal);
    }

    @Override
    public void begin(Request request, Response response, Callback callback, TunnelSession session,
                      Consumer<TunnelSession> closed) {
        Connector connector = request.getConnectionMetaData().getConnector();
        OriginFormMarker http = connector.getConnectionFactory(OriginFormMarker.class);
        EndPoint clientEndPoint = request.getTunnelSupport().getEndPoint();
        // The peer host is the name the key manager falls back on when the client sends no SNI.
        SSLEngine engine = context.createSSLEngine(session.host, session.port);
        engine.setUseClientMode(false);
        ClientTlsConnection tls = new ClientTlsConnection(connector.getByteBufferPool(), connector.getExecutor(),
                clientEndPoint, engine, session, closed);
        EndPoint decrypted = tls.getSslEndPoint();
        decrypted.setConnection(http.newInterceptedConnection(connector, decrypted, session));
        // As Jetty's ConnectHandler: the new connection replaces the HTTP one once the 200 has been written. The
        // 200 is an ordinary last write, completed before the callback, like every other response.
        request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, tls);
        response.setStatus(200);
        response.write(true, null, callback);
    }
}
