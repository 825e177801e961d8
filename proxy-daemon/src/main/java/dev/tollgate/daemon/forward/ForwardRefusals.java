package dev.tollgate.daemon.forward;

import dev.tollgate.daemon.exchange.ExchangeFacts;
import dev.tollgate.daemon.exchange.RefusalResponse;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;

/**
 * How a forwarded exchange that is refused or fails reaches the client and its row: the refusal answered (or the
 * begun response cut), the client's share of a failure told from the upstream's, the client's own abort noticed
 * on a failed write. Every case leaves its outcome in the request's {@link ExchangeFacts}.
 */
final class ForwardRefusals {

    /** The handler's log category, which these lines had before they moved here. */
    private static final Logger LOG = LoggerFactory.getLogger(ForwardProxyHandler.class);
    private static final int BAD_REQUEST = 400;
    private static final int REQUEST_TIMEOUT = 408;

    private ForwardRefusals() {
    }

    /** The facts {@link ForwardProxyHandler#handle} attached to the request. */
    static ExchangeFacts facts(Request request) {
        return (ExchangeFacts) request.getAttribute(ExchangeFacts.ATTRIBUTE);
    }

    /**
     * Answers the refusal when nothing was sent to the client yet; the connection is kept for a 403 or 407 (the
     * client may go on, or answer the challenge), closed otherwise. Once the response has begun, the client
     * connection is cut instead, so that a truncated body never looks complete.
     */
    static void refuse(Request request, Response response, Callback callback, RequestRefusedException refused) {
        facts(request).refused(refused);
        if (response.isCommitted()) {
            resetIfCloseDelimited(request, response, refused);
            callback.failed(refused);
            return;
        }
        try {
            response.reset();
        } catch (IllegalStateException committedMeanwhile) {
            LOG.debug("could not send refusal {}", refused.status(), committedMeanwhile);
            callback.failed(refused);
            return;
        }
        int status = refused.status();
        boolean close = status >= 500 || status == BAD_REQUEST || status == REQUEST_TIMEOUT;
        RefusalResponse.send(response, callback, refused, close);
    }

    /**
     * Cuts a response that has begun, when its body is close-delimited (no Content-Length, not chunked: the client
     * sent {@code Connection: close} or spoke HTTP/1.0), with a TCP reset instead of a FIN. A FIN is how such a
     * body ends when it is whole (RFC 9112 6.3), so a truncated one would look complete; a reset is what RFC
     * 9112 8 leaves the client to see as an incomplete message. A short Content-Length or a chunked body without
     * its last chunk is already visibly cut by the close Jetty makes.
     */
    private static void resetIfCloseDelimited(Request request, Response response, Throwable cause) {
        Connection connection = request.getConnectionMetaData().getConnection();
        if (response.getHeaders().contains(HttpHeader.CONTENT_LENGTH)
                || !(connection instanceof HttpConnection http) || http.getGenerator().isChunking()
                || !(connection.getEndPoint() instanceof SocketChannelEndPoint socket)) {
            return;
        }
        try {
            // Linger 0: close() then discards what is unsent and sends RST. An intercepted tunnel's decrypted end
            // point is not a socket and is left to Jetty's close (docs/reliability.md).
            socket.getChannel().setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not set SO_LINGER 0 on {}", socket, e);
        }
        socket.close(cause);
    }

    /**
     * The client's share of a failure, or null if it is not the client's: Jetty's server side reports a body it
     * could not read as an {@link HttpException} (its parser turns a malformed chunk into an early EOF), whereas
     * its HTTP client wraps an upstream's bad response in an exception of its own.
     */
    static RequestRefusedException clientBodyFailure(Request request, Throwable failure) {
        if (!(failure instanceof HttpException http) || http.getCode() < 400 || http.getCode() >= 500) {
            return null;
        }
        if (clientInputClosed(request)) {
            return new RequestRefusedException(BAD_REQUEST, Outcome.CLIENT_ABORT, "the client closed its"
                    + " connection before its request body was complete");
        }
        return new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "the request body's framing is"
                + " invalid (RFC 9112 7.1): it was not forwarded whole");
    }

    private static boolean clientInputClosed(Request request) {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        return endPoint == null || endPoint.isInputShutdown();
    }

    /**
     * The response to the client, its writes watched: when one fails (a broken pipe: the client left
     * mid-response), the exchange is the client's abort, not the upstream's failure that Jetty reports next.
     */
    static final class WatchedClientResponse extends Response.Wrapper {

        WatchedClientResponse(Request clientRequest, Response response) {
            super(clientRequest, response);
        }

        @Override
        public void write(boolean last, ByteBuffer content, Callback written) {
            super.write(last, content, new Callback.Nested(written) {
                @Override
                public void failed(Throwable failure) {
                    ExchangeFacts facts = facts(getRequest());
                    if (facts.clientFailure == null) {
                        facts.clientFailure = new RequestRefusedException(BAD_REQUEST, Outcome.CLIENT_ABORT, "the"
                                + " client closed its connection before the response was complete (" + failure
                                + ")");
                    }
                    super.failed(failure);
                }
            });
        }
    }
}
