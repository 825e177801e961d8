package dev.tollgate.daemon.tunnel;

import dev.tollgate.daemon.exchange.TunnelSession;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.function.Consumer;

/**
 * What a listener does with an allowed CONNECT instead of tunnelling it: nothing ({@link #OFF}, the default),
 * or decrypt it ({@code intercept.TlsInterception}).
 */
public interface Interception {

    /** Interception off: every CONNECT is tunnelled. */
    Interception OFF = new Interception() {
        @Override
        public boolean intercepts(String host) {
            return false;
        }

        @Override
        public void begin(Request request, Response response, Callback callback, TunnelSession session,
                          Consumer<TunnelSession> closed) {
            throw new IllegalStateException("interception is off");
        }
    };

    /** Whether a CONNECT to {@code host}, once allowed, is decrypted rather than tunnelled. */
    boolean intercepts(String host);

    /**
     * Called for an allowed CONNECT that {@link #intercepts} the host of: answers 200 and takes the client's
     * connection over; {@code closed} is told when it has closed and the tunnel's row was recorded.
     */
    void begin(Request request, Response response, Callback callback, TunnelSession session,
               Consumer<TunnelSession> closed);
}
