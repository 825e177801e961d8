package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.server.Request;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** The address a request's connection comes from, for the client rules of both forwarding and tunnels. */
public final class ClientAddress {

    private ClientAddress() {
    }

    /**
     * The connection's remote address as the socket reports it, without formatting and parsing it again; a
     * connection that reports no IP address (none does on a TCP listener) has its text form parsed, and is
     * refused 403 if that is no IP literal either.
     */
    public static InetAddress of(Request request) throws RequestRefusedException {
        SocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress();
        if (remote instanceof InetSocketAddress socket && socket.getAddress() != null) {
            return socket.getAddress();
        }
        String address = Request.getRemoteAddr(request);
        try {
            // An IP literal: InetAddress parses it without any DNS lookup.
            return InetAddress.getByName(address);
        } catch (IOException e) {
            throw new RequestRefusedException(403, Outcome.DENIED, "client address " + address + " cannot be read");
        }
    }
}
