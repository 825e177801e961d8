package dev.tollgate.daemon.exchange;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpGenerator;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
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
        return newConnection(connector, endPoint, null);
    }

    /**
     * A connection reading the decrypted requests of an intercepted tunnel: they arrive in origin-form, as a
     * client sends them to an origin server, and are taken as {@code https://host:port/path} for the tunnel's
     * CONNECT host and port (not for their Host header, which the CONNECT's policy checks did not see). Each
     * request carries {@link TunnelSession#INTERCEPTED_ATTRIBUTE}.
     */
    public Connection newInterceptedConnection(Connector connector, EndPoint endPoint, TunnelSession tunnel) {
        return newConnection(connector, endPoint, tunnel);
    }

    private Connection newConnection(Connector connector, EndPoint endPoint, TunnelSession intercepted) {
        HttpConnection connection = new MarkingConnection(getHttpConfiguration(), connector, endPoint,
                headDeadline.watch(endPoint, connector.getScheduler()), intercepted);
        connection.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
        return configure(connection, connector, endPoint);
    }

    /**
     * Whether the request's connection was cut off by {@code requestHeaderTimeoutMs}: its 408 is already
     * recorded, and what Jetty's parser makes of the half-read head afterwards is not another request.
     */
    static boolean headTimedOut(org.eclipse.jetty.server.Request request) {
        return request.getConnectionMetaData().getConnection() instanceof MarkingConnection marking
                && marking.headWatch.expired();
    }

    private static final class MarkingConnection extends HttpConnection {
        private final RequestHeadDeadline.Watch headWatch;
        /** The intercepted tunnel whose decrypted requests this connection reads, or null. */
        private final TunnelSession intercepted;
        /** Whether a head was completed during the current {@link #onFillable} (its thread's alone). */
        private boolean headCompleted;

        MarkingConnection(HttpConfiguration configuration, Connector connector, EndPoint endPoint,
                          RequestHeadDeadline.Watch headWatch, TunnelSession intercepted) {
            super(configuration, connector, endPoint);
            this.headWatch = headWatch;
            this.intercepted = intercepted;
        }

        /**
         * Called when bytes (or the end of the stream) can be read, and by Jetty after a response, to look for a
         * pipelined request, with nothing to read. Inside a head the clock runs already; between heads it starts
         * only when this call read bytes and did not complete the head they began. An idle kept-alive connection
         * (a browser's, a pool's) is thus never answered 408: it waits for its idle timeout, as before a request.
         */
        @Override
        public void onFillable() {
            HttpParser parser = getParser();
            boolean betweenHeads = parser.isStart();
            if (!betweenHeads && parser.inHeaderState()) {
                headWatch.headStarted();
            }
            long bytesBefore = getBytesIn();
            headCompleted = false;
            super.onFillable();
            if (betweenHeads && !headCompleted && getBytesIn() > bytesBefore && getEndPoint().isOpen()) {
                headWatch.headStarted();
            }
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

        /** Jetty's generator, except for the 2xx that opens a tunnel: see {@link ConnectResponseGenerator}. */
        @Override
        protected HttpGenerator newHttpGenerator() {
            return new ConnectResponseGenerator(this::answeringConnect);
        }

        private boolean answeringConnect() {
            org.eclipse.jetty.server.Request request = getHttpChannel().getRequest();
            return request != null && HttpMethod.CONNECT.is(request.getMethod());
        }

        @Override
        protected RequestHandler newRequestHandler() {
            return new RequestHandler() {
                private boolean originForm;
                private boolean http10;

                /**
                 * Jetty answers an HTTP/2 request line ({@code PRI * HTTP/2.0}, prior knowledge) on an HTTP/1.1-only
                 * connector 426 Upgrade Required without the Upgrade field RFC 9110 15.5.22 makes a MUST. What is
                 * meant is RFC 9110 15.6.6's 505: this port does not speak that major version of HTTP.
                 */
                @Override
                public void badMessage(HttpException failure) {
                    if (failure.getCode() == HttpStatus.UPGRADE_REQUIRED_426) {
                        failure = new HttpException.RuntimeException(HttpStatus.HTTP_VERSION_NOT_SUPPORTED_505,
                                "HTTP/2 is not spoken on this port: HTTP/1.1 only");
                    }
                    super.badMessage(failure);
                }

                @Override
                public void parsedHeader(HttpField field) {
                    if (http10 && field.getHeader() == HttpHeader.EXPECT) {
                        // RFC 9110 10.1.1: "A server that receives a 100-continue expectation in an HTTP/1.0
                        // request MUST ignore that expectation", and 15.2: no 1xx to an HTTP/1.0 client. Jetty
                        // would answer it 100 when the body is first read; dropped here, it is never seen.
                        return;
                    }
                    super.parsedHeader(field);
                }

                @Override
                public void startRequest(String method, String uri, HttpVersion version) {
                    http10 = version == HttpVersion.HTTP_1_0;
                    if (intercepted != null && uri != null && uri.startsWith("/")) {
                        // RFC 9112 3.3: the target is the tunnel's origin; origin-form is right here.
                        uri = intercepted.origin() + uri;
                    }
                    originForm = uri != null && (uri.startsWith("/") || uri.equals("*"));
                    super.startRequest(method, uri, version);
                }

                @Override
                public boolean headerComplete() {
                    headCompleted = true;
                    headWatch.headComplete();
                    boolean result = super.headerComplete();
                    if (originForm && getHttpChannel().getRequest() != null) {
                        getHttpChannel().getRequest().setAttribute(ATTRIBUTE, Boolean.TRUE);
                    }
                    if (intercepted != null && getHttpChannel().getRequest() != null) {
                        getHttpChannel().getRequest().setAttribute(TunnelSession.INTERCEPTED_ATTRIBUTE,
                                intercepted);
                    }
                    return result;
                }
            };
        }
    }
}
