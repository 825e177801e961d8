package dev.tollgate.daemon.tunnel;

import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A listener's connector whose client endpoints let a TCP reset through as a failure ({@link
 * ResetReportingEndPoint}) instead of an ordinary end of stream, so that a client that aborts inside a tunnel is
 * recorded {@code CLIENT_ABORT}, not OK. HTTP connections are unaffected: Jetty's HTTP/1 connection treats a
 * failed read as the end of the stream either way.
 */
public final class ResetReportingConnector extends ServerConnector {

    public ResetReportingConnector(Server server, ConnectionFactory... factories) {
        super(server, factories);
    }

    @Override
    protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key) {
        SocketChannelEndPoint endPoint = new ResetReportingEndPoint(channel, selector, key, getScheduler());
        endPoint.setIdleTimeout(getIdleTimeout());
        return endPoint;
    }
}
