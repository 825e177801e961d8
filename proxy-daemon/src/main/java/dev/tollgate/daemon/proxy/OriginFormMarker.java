package dev.tollgate.daemon.proxy;

import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;

import java.util.concurrent.TimeoutException;

/**
 * An HTTP/1.1 connection factory that remembers whether a request line used origin-form
 * ({@code GET /path}) rather than absolute-form ({@code GET http://host/path}). Jetty fills the scheme and
 * authority of an origin-form target from the Host header before any handler runs, so afterwards the two
 * cannot be told apart; a forward proxy must refuse origin-form (RFC 9112 3.2.2), or it would forward to
 * whatever the Host header names. Uses Jetty's internal {@code HttpConnection}: check it on each Jetty upgrade.
 */
public final class OriginFormMarker extends HttpConnectionFactory {

    /** Request attribute present (Boolean.TRUE) when the request target was in origin-form. */
    public static final String ATTRIBUTE = OriginFormMarker.class.getName() + ".originForm";

    private final RequestHeadDeadline headDeadline;

    /**
     * @param headDeadline the listener's {@code requestHeaderTimeoutMs}, enforced on every connection (this
     *                     factory makes each connection, so it is where a head's first byte can be seen)
     */
    public OriginFormMarker(HttpConfiguration configuration, RequestHeadDeadline headDeadline) {
        super(configuration);
        this.headDeadline = headDeadline;
    }

    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint) {
        HttpConnection connection = new MarkingConnection(getHttpConfiguration(), connector, endPoint,
                headDeadline.watch(endPoint, connector.getScheduler()));
        connection.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
        return configure(connection, connector, endPoint);
    }

    private static final class MarkingConnection extends HttpConnection {
        private final RequestHeadDeadline.Watch headWatch;

        MarkingConnection(HttpConfiguration configuration, Connector connector, EndPoint endPoint,
                          RequestHeadDeadline.Watch headWatch) {
            super(configuration, connector, endPoint);
            this.headWatch = headWatch;
        }

        /**
         * Called when bytes (or the end of the stream) can be read. Between requests, or inside a head, that is
         * the first byte of a head as far as the deadline is concerned: the clock starts unless it runs already.
         */
        @Override
        public void onFillable() {
            if (getParser().isStart() || getParser().inHeaderState()) {
                headWatch.headStarted();
            }
            super.onFillable();
        }

        @Override
        public void onClose(Throwable cause) {
            headWatch.connectionClosed();
            super.onClose(cause);
        }

        /**
         * While the listener drains, Jetty shortens every connection's idle timeout to 1 s. A request still
         * waiting for its origin must not be cut by that, only by the end of the drain (which closes every
         * connection); a connection with no request in progress still closes after the second.
         */
        @Override
        public boolean onIdleExpired(TimeoutException timeout) {
            if (getConnector().isShutdown()
                    && getHttpChannel().getRequest() != null) {
                return false;
            }
            return super.onIdleExpired(timeout);
        }

        @Override
        protected RequestHandler newRequestHandler() {
            return new RequestHandler() {
                private boolean originForm;

                @Override
                public void startRequest(String method, String uri, HttpVersion version) {
                    originForm = uri != null && (uri.startsWith("/") || uri.equals("*"));
                    super.startRequest(method, uri, version);
                }

                @Override
                public boolean headerComplete() {
                    headWatch.headComplete();
                    boolean result = super.headerComplete();
                    if (originForm && getHttpChannel().getRequest() != null) {
                        getHttpChannel().getRequest().setAttribute(ATTRIBUTE, Boolean.TRUE);
                    }
                    return result;
                }
            };
        }
    }
}
