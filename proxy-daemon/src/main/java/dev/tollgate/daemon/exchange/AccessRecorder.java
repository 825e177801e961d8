package dev.tollgate.daemon.exchange;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.URIUtil;

/**
 * The server-wide request log that turns every completed non-tunnel request into one {@link AccessRecord}:
 * forwarded requests (with the facts the forwarding path attached; decrypted ones of an intercepted tunnel are
 * INTERCEPT rows with the tunnel's SNI name), and requests Jetty's parser rejected
 * before any handler saw them (400, 414, 431, 505), which have no facts. Tunnels record themselves when they
 * close.
 * <p>
 * A request that reached a listener's chain is journaled before the client gets the end of its answer
 * ({@link #journalBeforeLastBytes}, called by {@link JournaledResponse}); this request log then only hands that
 * same record on. A request Jetty's parser rejected never reaches the chain: its record is journaled here, after
 * its answer was sent (the one kind of row a kill -9 at that moment can still lose, docs/access-log.md).
 */
public final class AccessRecorder implements RequestLog {

    private static final String JOURNALED_ATTRIBUTE = AccessRecorder.class.getName() + ".journaled";

    private final String node;
    private final AccessRecordSink sink;

    public AccessRecorder(String node, AccessRecordSink sink) {
        this.node = node;
        this.sink = sink;
    }

    /**
     * Called once per request, just before the last bytes of its answer are released to the client (the last
     * write, or the one that completes a Content-Length body; for a bodiless answer, its head): builds the record
     * with what is known now and appends it to the journal.
     *
     * @param status        the status of the answer
     * @param bytesToClient the body bytes sent to the client, those about to be sent included
     */
    void journalBeforeLastBytes(Request request, int status, long bytesToClient) {
        if (!records(request)) {
            return;
        }
        AccessRecord r = newRecord(request, status, bytesToClient);
        sink.journal(r);
        request.setAttribute(JOURNALED_ATTRIBUTE, r);
    }

    @Override
    public void log(Request request, Response response) {
        if (request.getAttribute(JOURNALED_ATTRIBUTE) instanceof AccessRecord journaled) {
            sink.ended(journaled);
            return;
        }
        if (!records(request)) {
            return;
        }
        sink.accept(newRecord(request, response.getStatus(), Response.getContentBytesWritten(response)));
    }

    /** Whether this request log records {@code request}: not a tunnel (it records itself), nor a head that timed out. */
    private static boolean records(Request request) {
        ExchangeFacts facts = (ExchangeFacts) request.getAttribute(ExchangeFacts.ATTRIBUTE);
        return !(facts != null && facts.recordedByTunnel || facts == null && OriginFormMarker.headTimedOut(request));
    }

    private AccessRecord newRecord(Request request, int status, long bytesToClient) {
        ExchangeFacts facts = (ExchangeFacts) request.getAttribute(ExchangeFacts.ATTRIBUTE);
        long tsMs = Request.getTimeStamp(request);
        String method = request.getMethod();
        HttpURI uri = request.getHttpURI();
        String protocol = request.getConnectionMetaData().getProtocol();
        if (facts == null && isParserPlaceholder(method, uri)) {
            // The request line itself could not be parsed: record nothing about it rather than Jetty's stand-in.
            method = null;
            uri = null;
            protocol = null;
        }
        TunnelSession intercepted = facts == null ? null : facts.intercepted;
        if (intercepted != null) {
            intercepted.interceptedRequests.increment();
        }
        String listener = listenerName(request);
        AccessRecord.Builder record;
        if (facts == null && status >= 400) {
            record = AccessRecord.parserRejection(node, listener, method, status,
                    "rejected by the HTTP parser: " + status + " " + HttpStatus.getMessage(status));
        } else if (intercepted != null) {
            record = AccessRecord.intercepted(node, listener, intercepted.sni);
        } else if (HttpMethod.CONNECT.is(method)) {
            // A CONNECT refused before the tunnel handler took it (AdmissionHandler's 503): a TUNNEL row all the same.
            record = AccessRecord.tunnel(node, listener).method(method);
        } else {
            record = AccessRecord.forwarded(node, listener);
        }
        if (facts == null) {
            if (status < 400) {
                record.outcome(Outcome.OK, null);
            }
        } else {
            String reason = facts.reason;
            if (facts.wouldDeny != null && facts.outcome == Outcome.OK) {
                reason = TunnelSession.WOULD_DENY + facts.wouldDeny + (reason == null ? "" : "; " + reason);
            }
            record.outcome(facts.outcome, reason)
                    .username(facts.username)
                    .upstreamAddr(facts.upstreamAddr);
        }
        return record.timing(tsMs, System.currentTimeMillis())
                .client(Request.getRemoteAddr(request), Request.getRemotePort(request))
                .protocol(protocol)
                .method(method)
                .destination(uri == null ? null : uri.getHost(), uri == null ? 0 : portOf(uri))
                .path(uri == null ? null : pathOf(uri, facts != null && facts.logQuery))
                .status(status)
                .bytes(Request.getContentBytesRead(request), bytesToClient)
                .build();
    }

    public static String listenerName(Request request) {
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
