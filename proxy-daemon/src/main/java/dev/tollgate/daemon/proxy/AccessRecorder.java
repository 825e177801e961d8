package dev.tollgate.daemon.proxy;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.URIUtil;

import java.util.function.Consumer;

/**
 * The server-wide request log that turns every completed non-tunnel request into one {@link AccessRecord}:
 * forwarded requests (with the facts the forwarding path attached; decrypted ones of an intercepted tunnel are
 * INTERCEPT rows with the tunnel's SNI name), and requests Jetty's parser rejected
 * before any handler saw them (400, 414, 431, 505), which have no facts. Tunnels record themselves when they
 * close.
 */
public final class AccessRecorder implements RequestLog {

    private final String node;
    private final Consumer<AccessRecord> sink;

    public AccessRecorder(String node, Consumer<AccessRecord> sink) {
        this.node = node;
        this.sink = sink;
    }

    @Override
    public void log(Request request, Response response) {
        ExchangeFacts facts = (ExchangeFacts) request.getAttribute(ExchangeFacts.ATTRIBUTE);
        if (facts != null && facts.recordedByTunnel || facts == null && OriginFormMarker.headTimedOut(request)) {
            return;
        }
        long tsMs = Request.getTimeStamp(request);
        int status = response.getStatus();
        String method = request.getMethod();
        HttpURI uri = request.getHttpURI();
        String protocol = request.getConnectionMetaData().getProtocol();
        if (facts == null && isParserPlaceholder(method, uri)) {
            // The request line itself could not be parsed: record nothing about it rather than Jetty's stand-in.
            method = null;
            uri = null;
            protocol = null;
        }
        Outcome outcome;
        String reason;
        if (facts == null) {
            outcome = status >= 400 ? Outcome.BAD_REQUEST : Outcome.OK;
            reason = status >= 400 ? "rejected by the HTTP parser: " + status + " " + HttpStatus.getMessage(status)
                    : null;
        } else {
            outcome = facts.outcome;
            reason = facts.reason;
        }
        TunnelSession intercepted = facts == null ? null : facts.intercepted;
        if (intercepted != null) {
            intercepted.interceptedRequests.increment();
        }
        sink.accept(new AccessRecord(
                null,
                tsMs,
                Math.max(0, System.currentTimeMillis() - tsMs),
                node,
                listenerName(request),
                Request.getRemoteAddr(request),
                Request.getRemotePort(request),
                facts == null ? null : facts.username,
                intercepted != null ? Kind.INTERCEPT : HttpMethod.CONNECT.is(method) ? Kind.TUNNEL : Kind.FORWARD,
                protocol,
                method,
                uri == null ? null : uri.getHost(),
                uri == null ? 0 : portOf(uri),
                uri == null ? null : pathOf(uri, facts != null && facts.logQuery),
                status,
                Request.getContentBytesRead(request),
                Response.getContentBytesWritten(response),
                facts == null ? null : facts.upstreamAddr,
                intercepted == null ? null : intercepted.sni,
                outcome,
                reason));
    }

    static String listenerName(Request request) {
        Connector connector = request.getConnectionMetaData().getConnector();
        String name = connector == null ? null : connector.getName();
        return name == null ? "unknown" : name;
    }

    /**
     * Whether this is the request Jetty makes up ({@code BAD /badMessage HTTP/1.0}, or {@code /badURI}) to answer
     * a request line its parser rejected (414, 505, a malformed line): its method, path and version are not the
     * client's.
     */
    private static boolean isParserPlaceholder(String method, HttpURI uri) {
        return "BAD".equals(method) && uri != null && uri.getHost() == null
                && ("/badMessage".equals(uri.getPath()) || "/badURI".equals(uri.getPath()));
    }

    private static int portOf(HttpURI uri) {
        int port = uri.getPort();
        return port > 0 ? port : Math.max(0, URIUtil.getDefaultPortForScheme(uri.getScheme()));
    }

    private static String pathOf(HttpURI uri, boolean logQuery) {
        String path = uri.getPath();
        if (path == null) {
            return null;
        }
        String query = uri.getQuery();
        return logQuery && query != null ? path + "?" + query : path;
    }
}
