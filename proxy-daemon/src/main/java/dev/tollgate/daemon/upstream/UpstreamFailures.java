package dev.tollgate.daemon.upstream;

import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertificateException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLHandshakeException;

/**
 * Turns why reaching an upstream failed into what the client is told and what the access log says:
 * refused, unreachable or unresolvable is 502, a timeout is 504 (RFC 9110 15.6.3 and 15.6.5), and one of
 * Tollgate's own refusals keeps its status.
 */
public final class UpstreamFailures {

    private static final int BAD_GATEWAY = 502;
    private static final int GATEWAY_TIMEOUT = 504;

    private UpstreamFailures() {
    }

    /**
     * @param failure        what Jetty reported
     * @param destination    {@code host:port}, for the reason
     * @param responseBegun  whether the upstream had already started its response
     */
    public static RequestRefusedException classify(Throwable failure, String destination, boolean responseBegun) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RequestRefusedException refused) {
                return refused;
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SSLHandshakeException || t instanceof CertificateException) {
                return new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_TLS_INVALID,
                        "upstream " + destination + ": TLS certificate not accepted (" + message(t) + ")");
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException || t instanceof SocketTimeoutException) {
                String what = responseBegun ? "stopped sending its response" : "did not answer in time";
                return new RequestRefusedException(GATEWAY_TIMEOUT, Outcome.UPSTREAM_TIMEOUT,
                        "upstream " + destination + " " + what + " (" + message(t) + ")");
            }
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE,
                        "upstream " + destination + " cannot be resolved");
            }
            if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                return new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE,
                        "upstream " + destination + " refused the connection (" + message(t) + ")");
            }
        }
        String what = responseBegun ? "broke off its response" : "closed the connection without a response";
        return new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_RESET,
                "upstream " + destination + " " + what + " (" + message(failure) + ")");
    }

    private static String message(Throwable t) {
        if (t instanceof EOFException) {
            // Jetty's message for an early end of stream is the whole connection's state dump, not a reason.
            return t.getCause() == null ? "the connection ended early" : message(t.getCause());
        }
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message.lines().findFirst()
                .orElse(message);
    }
}
