package dev.tollgate.daemon.forward;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.exchange.AccessRecorder;
import dev.tollgate.daemon.exchange.ExchangeFacts;
import dev.tollgate.daemon.exchange.OriginFormMarker;
import dev.tollgate.daemon.exchange.TunnelSession;
import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.gate.ClientAddress;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.tls.UpstreamTrust;
import dev.tollgate.daemon.upstream.ParentProxy;
import dev.tollgate.daemon.upstream.UpstreamFailures;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpProxy;
import org.eclipse.jetty.client.Origin;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.RoundRobinConnectionPool;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * Forwards absolute-form HTTP requests to their origin through Jetty's core {@link ProxyHandler} (bodies streamed
 * both ways as Jetty's own buffers, without blocking threads), after the listener's policy and the loop guard
 * have had their say. Every outcome, forwarded or refused, is left as {@link ExchangeFacts} for the
 * {@link AccessRecorder}.
 * <p>
 * A little over 400 lines: one override per Jetty hook, in the order Jetty calls them, plus the
 * {@code ResponseRelay}, which extends {@code ProxyHandler}'s inner listener class and reads this handler's parent
 * proxy, so it stays an inner class. How refusals reach the client is in {@link ForwardRefusals}; the request's
 * own form in {@link RequestForm}.
 */
public class ForwardProxyHandler extends ProxyHandler.Forward {

    private static final int BAD_REQUEST = 400;
    private static final int REQUEST_TIMEOUT = 408;
    private static final int BAD_GATEWAY = 502;
    /** The connections kept per origin: Jetty's proxy servlet's default, which Tollgate used before. */
    private static final int MAX_CONNECTIONS_PER_ORIGIN = 256;
    /** The largest buffer Jetty's pool keeps (larger ones would be allocated per read), as for tunnels. */
    private static final int ORIGIN_READ_BUFFER_BYTES = 64 * 1024;

    private final ListenerConfig config;
    private final AdmissionGate gate;
    private final ParentProxy parent;
    private final LoopGuard loopGuard;
    private final KeyStore upstreamTrust;
    /** The {@code Via} this node adds to an HTTP/1.1 request that came without one. */
    private final HttpField via11;
    /** The same for an HTTP/1.0 request. */
    private final HttpField via10;

    /**
     * @param gate      the listener's admission gate, shared with its {@code TunnelHandler}
     * @param parent    the listener's parent proxy (the gate's too), for dialling and its credentials
     * @param loopGuard this node's loop guard, for the {@code Via} it adds
     */
    public ForwardProxyHandler(ListenerConfig config, AdmissionGate gate, ParentProxy parent, LoopGuard loopGuard) {
        this.config = config;
        this.gate = gate;
        this.parent = parent;
        this.loopGuard = loopGuard;
        // Read now, so that an unreadable intercept.trustBundle stops the listener's start with its name.
        this.upstreamTrust = UpstreamTrust.trustStore(config.intercept().trustBundle());
        setViaHost(loopGuard.viaToken());
        this.via11 = new HttpField(HttpHeader.VIA, "1.1 " + loopGuard.viaToken());
        this.via10 = new HttpField(HttpHeader.VIA, "1.0 " + loopGuard.viaToken());
        // Origin connections are served by the listeners' own thread pool, not a second one.
        setUseServerThreadPool(true);
    }

    /**
     * Called for every request that passed the HTTP parser and is not a CONNECT. Refuses origin-form targets,
     * non-http schemes, looped requests, clients outside {@code allowClients}, missing or wrong proxy credentials
     * and destinations refused by name; forwards the rest (the destination's address is checked when it is
     * resolved, see {@link GuardedResolver}).
     */
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        ExchangeFacts facts = ExchangeFacts.forward(config.logQuery());
        facts.intercepted = (TunnelSession) request.getAttribute(TunnelSession.INTERCEPTED_ATTRIBUTE);
        request.setAttribute(ExchangeFacts.ATTRIBUTE, facts);
        try {
            validateClientRequest(request, facts);
        } catch (RequestRefusedException refused) {
            ForwardRefusals.refuse(request, response, callback, refused);
            return true;
        }
        if (RequestForm.answeredAsFinalRecipient(request, response, callback)) {
            return true;
        }
        // Decided: the request is forwarded. An Expect: 100-continue is answered here, not by the origin.
        return super.handle(ContinueAnsweredRequest.of(request), response, callback);
    }

    private void validateClientRequest(Request request, ExchangeFacts facts) throws RequestRefusedException {
        if (request.getAttribute(OriginFormMarker.ATTRIBUTE) != null) {
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "this is a forward proxy: the"
                    + " request target must be an absolute URI such as http://host/path (RFC 9112 3.2.2)");
        }
        if (request.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_1_0
                && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            // Jetty's parser reads such a body as chunked; RFC 9112 6.1 says the framing is faulty instead.
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0"
                    + " request: its framing cannot be trusted (RFC 9112 6.1)");
        }
        String scheme = request.getHttpURI().getScheme();
        String host = Request.getServerName(request);
        int port = Request.getServerPort(request);
        TunnelSession intercepted = facts.intercepted;
        if (intercepted != null) {
            // Inside an intercepted tunnel only its own origin is reached: the CONNECT was checked for it.
            if (!"https".equalsIgnoreCase(scheme) || port != intercepted.port
                    || !intercepted.host.equalsIgnoreCase(unbracketed(host))) {
                throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "inside the intercepted tunnel"
                        + " to " + intercepted.host + ":" + intercepted.port + " only requests for "
                        + intercepted.origin() + " are forwarded");
            }
        } else if (!"http".equalsIgnoreCase(scheme)) {
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "scheme " + scheme
                    + " is not forwarded: send https through a CONNECT tunnel");
        }
        if (intercepted == null) {
            RequestForm.checkTargetAuthority(request.getHttpURI());
        }
        facts.username = gate.admit(request.getMethod(), request.getHeaders().getValuesList(HttpHeader.VIA),
                ClientAddress.of(request),
                request.getHeaders().get(HttpHeader.PROXY_AUTHORIZATION), host, port, AdmissionGate.Exchange.FORWARD,
                reason -> {
                    if (facts.wouldDeny == null) {
                        facts.wouldDeny = reason;
                    }
                });
    }

    /**
     * The URI the request is sent to: for a decrypted request, its intercepted tunnel's origin with the request's
     * path and query (the request names the origin only by its Host header); otherwise the absolute-form target.
     */
    @Override
    protected HttpURI rewriteHttpURI(Request clientRequest) {
        TunnelSession intercepted = ForwardRefusals.facts(clientRequest).intercepted;
        if (intercepted == null) {
            return clientRequest.getHttpURI();
        }
        return HttpURI.build(intercepted.origin() + clientRequest.getHttpURI().getPathQuery());
    }

    /** The HttpClient that dials origins, HTTP/1.1 only, with a TLS context for https origins (interception). */
    @Override
    protected HttpClient newHttpClient() {
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(new SslContextFactory.Client());
        return new HttpClient(new HttpClientTransportOverHTTP(connector));
    }

    /**
     * Configures the HttpClient that dials origins: listener timeouts, a round-robin connection pool, the guarded
     * resolver, upstream TLS and the parent proxy (for the destinations {@code noProxy} does not exempt).
     */
    @Override
    protected void configureHttpClient(HttpClient client) {
        super.configureHttpClient(client);
        client.setConnectTimeout(config.connectTimeoutMs());
        // No total exchange timeout: a long download is fine as long as bytes keep flowing.
        client.setIdleTimeout(config.idleTimeoutMs());
        client.setMaxConnectionsPerDestination(MAX_CONNECTIONS_PER_ORIGIN);
        // 64 KiB a read from the origin instead of Jetty's 16 KiB: a 64 KiB response is read and relayed in one or
        // two steps instead of four or five (http_64k +13-30 % at a fifth less CPU per request, side by side).
        // Buffers are pooled and held only while a read is in progress, not per idle connection.
        client.setResponseBufferSize(ORIGIN_READ_BUFFER_BYTES);
        // Jetty's default pool looks for an idle connection from the first one on, past every busy one: under
        // load a cost per request that grows with the connections open to the origin. Round robin starts after
        // the last one taken, which has most likely been released since. Connections are still opened only
        // when none is idle (not "maximized" as this pool would by default).
        client.getTransport().setConnectionPoolFactory(destination -> {
            RoundRobinConnectionPool pool = new RoundRobinConnectionPool(destination,
                    client.getMaxConnectionsPerDestination());
            pool.setMaximizeConnections(false);
            return pool;
        });
        // Every address dialled is checked as it is resolved. The guarded resolver wraps Jetty's asynchronous one,
        // which needs the client's executor (the server's pool, set before this is called) and its scheduler
        // (made here, where the client would make the same at start).
        client.setScheduler(new ScheduledExecutorScheduler("tollgate-origin-" + config.name(), false));
        client.setSocketAddressResolver(new GuardedResolver(new SocketAddressResolver.Async(client.getExecutor(),
                client.getScheduler(), client.getAddressResolutionTimeout()), gate, parent));
        // https upstreams (intercepted requests): the JVM's trust store plus intercept.trustBundle, and the
        // host name checked against the certificate (RFC 9110 4.3.4). A failure is a 502, never accepted.
        SslContextFactory.Client tls = client.getSslContextFactory();
        tls.setTrustAll(false);
        tls.setEndpointIdentificationAlgorithm("HTTPS");
        tls.setTrustStore(upstreamTrust);
        if (!parent.isDirect()) {
            client.getProxyConfiguration().addProxy(new HttpProxy(new Origin.Address(parent.host(), parent.port()),
                    false) {
                @Override
                public boolean matches(Origin origin) {
                    // super excludes the parent's own address: without it the CONNECT that opens a tunnel for an
                    // https origin (intercepted requests) would itself be sent as a proxied request, and Jetty
                    // writes its target as "CONNECT http://parent:port/", which the parent rejects.
                    return super.matches(origin) && parent.appliesTo(origin.getAddress().getHost());
                }
            });
        }
    }

    /**
     * Copies the client's end-to-end headers as Jetty does (hop-by-hop ones, Proxy-Authorization among them, are
     * dropped, RFC 9110 7.6.1), except Host: the absolute-form target names the origin, and the origin's Host is
     * made from it (RFC 9112 3.2.2); and a TRACE's or OPTIONS's Max-Forwards goes on one less (RFC 9110 7.6.2).
     */
    @Override
    protected void copyRequestHeaders(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest) {
        super.copyRequestHeaders(clientRequest, proxyRequest);
        proxyRequest.headers(headers -> headers.put(HttpHeader.HOST, RequestForm.originHost(proxyRequest.getScheme(),
                proxyRequest.getHost(), proxyRequest.getPort())));
        long maxForwards = RequestForm.maxForwards(clientRequest.getHeaders());
        if (maxForwards > 0 && (HttpMethod.TRACE.is(clientRequest.getMethod())
                || HttpMethod.OPTIONS.is(clientRequest.getMethod()))) {
            // RFC 9110 7.6.2: each intermediary decrements it before forwarding a TRACE or OPTIONS.
            proxyRequest.headers(headers -> headers.put(HttpHeader.MAX_FORWARDS, Long.toString(maxForwards - 1)));
        }
    }

    /**
     * Adds Via, then X-Forwarded-For and Forwarded as {@code forwardedFor} says, then the parent's own
     * Proxy-Authorization when the request goes through it.
     */
    @Override
    protected void addProxyHeaders(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest) {
        super.addProxyHeaders(clientRequest, proxyRequest);
        if (parent.authorization() != null && parent.appliesTo(Request.getServerName(clientRequest))) {
            proxyRequest.headers(h -> h.put(HttpHeader.PROXY_AUTHORIZATION, parent.authorization()));
        }
    }

    /**
     * The {@code Via} Jetty would add (the client's protocol version and this node's token), as one field made at
     * start-up when the request came without a {@code Via}, as nearly all do: Jetty builds it anew for each request
     * (a split, two strings and a lambda, about 200 bytes). A request that carries a {@code Via} gets Jetty's own
     * append; the loop guard has already refused one naming this node.
     */
    @Override
    protected void addViaHeader(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest) {
        HttpVersion version = clientRequest.getConnectionMetaData().getHttpVersion();
        HttpField via = version == HttpVersion.HTTP_1_1 ? via11 : version == HttpVersion.HTTP_1_0 ? via10 : null;
        if (via == null || proxyRequest.getHeaders().contains(HttpHeader.VIA)) {
            super.addViaHeader(clientRequest, proxyRequest);
            return;
        }
        proxyRequest.headers(headers -> headers.add(via));
    }

    /**
     * {@code forwardedFor}: {@code off} adds nothing (a client-sent X-Forwarded-For or Forwarded passes through
     * as any end-to-end header), {@code on} appends the client's address to both (RFC 7239 4: a value the client
     * sent is kept and appended to), {@code delete} strips both.
     */
    @Override
    protected void addForwardedHeader(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest) {
        switch (config.forwardedFor()) {
            case ListenerConfig.FORWARDED_FOR_ON -> {
                String client = Request.getRemoteAddr(clientRequest);
                String node = client.indexOf(':') >= 0 ? "\"[" + client + "]\"" : client;
                proxyRequest.headers(h -> {
                    append(h, HttpHeader.X_FORWARDED_FOR, client);
                    append(h, HttpHeader.FORWARDED, "for=" + node);
                });
            }
            case ListenerConfig.FORWARDED_FOR_DELETE -> proxyRequest.headers(h -> {
                h.remove(HttpHeader.X_FORWARDED_FOR);
                h.remove(HttpHeader.FORWARDED);
            });
            default -> {
                // off: nothing added, nothing taken away.
            }
        }
    }

    private static void append(HttpFields.Mutable headers, HttpHeader name, String value) {
        List<String> sent = headers.getValuesList(name);
        headers.remove(name);
        headers.put(name, sent.isEmpty() ? value : String.join(", ", sent) + ", " + value);
    }

    /** The client's request body as Jetty reads it, watched for a stall and for the client's own failures. */
    @Override
    protected org.eclipse.jetty.client.Request.Content newProxyToServerRequestContent(
            Request clientRequest, Response proxyResponse, org.eclipse.jetty.client.Request proxyRequest) {
        return new WatchedRequestBody(super.newProxyToServerRequestContent(clientRequest, proxyResponse,
                proxyRequest), proxyRequest, getHttpClient().getScheduler(), config.requestBodyStallTimeoutMs(),
                failure -> clientBodyFailed(clientRequest, failure));
    }

    /**
     * The client's request body failed after forwarding began: its chunked framing was malformed (the parser meets
     * a bad chunk only after the head was handed on: 400, BAD_REQUEST), the client closed mid-body or went quiet
     * past the idle timeout (CLIENT_ABORT). The upstream exchange then fails too: this cause is what the client is
     * answered and the row says, not the upstream's.
     */
    private void clientBodyFailed(Request clientRequest, Throwable failure) {
        RequestRefusedException refused = ForwardRefusals.clientBodyFailure(clientRequest, failure);
        if (refused == null) {
            refused = new RequestRefusedException(failure instanceof TimeoutException ? REQUEST_TIMEOUT : BAD_REQUEST,
                    Outcome.CLIENT_ABORT, "client request body failed: " + failure);
        }
        ExchangeFacts facts = ForwardRefusals.facts(clientRequest);
        facts.clientFailure = refused;
        facts.refused(refused);
    }

    /** Copies the origin's response, noting the address dialled and watching the writes to the client. */
    @Override
    protected org.eclipse.jetty.client.Response.CompleteListener newServerToProxyResponseListener(
            Request clientRequest, org.eclipse.jetty.client.Request proxyRequest, Response proxyResponse,
            Callback callback) {
        return new ResponseRelay(clientRequest, proxyRequest,
                new ForwardRefusals.WatchedClientResponse(clientRequest, proxyResponse), callback);
    }

    /**
     * Called when the exchange with the origin failed: before its response began (answered 502, 504 or the
     * policy's own status) or in the middle of it (the client connection is cut, so a truncated body never
     * looks complete).
     */
    @Override
    protected void onServerToProxyResponseFailure(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest,
                                                  org.eclipse.jetty.client.Response serverResponse,
                                                  Response proxyResponse, Callback callback, Throwable failure) {
        boolean begun = proxyResponse.isCommitted();
        // The origin may have sent its status line while nothing was committed to the client yet.
        boolean upstreamBegun = begun || (serverResponse != null && serverResponse.getStatus() > 0);
        String host = Request.getServerName(clientRequest);
        String destination = host + ":" + Request.getServerPort(clientRequest);
        if (parent.appliesTo(host)) {
            destination = parent.describe() + " (for " + destination + ")";
        }
        ExchangeFacts known = ForwardRefusals.facts(clientRequest);
        // A failed client body aborts the upstream exchange, which then fails too: the client's fault stands.
        RequestRefusedException refused = known.clientFailure != null ? known.clientFailure
                : ForwardRefusals.clientBodyFailure(clientRequest, failure);
        if (refused == null) {
            refused = UpstreamFailures.classify(failure, destination, upstreamBegun);
        }
        ForwardRefusals.refuse(clientRequest, proxyResponse, callback, refused);
    }

    /** The last write to the client failed: the client left (noted by the write), the connection is cut. */
    @Override
    protected void onProxyToClientResponseFailure(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest,
                                                  org.eclipse.jetty.client.Response serverResponse,
                                                  Response proxyResponse, Callback callback, Throwable failure) {
        ExchangeFacts facts = ForwardRefusals.facts(clientRequest);
        if (facts.clientFailure != null) {
            facts.refused(facts.clientFailure);
        }
        super.onProxyToClientResponseFailure(clientRequest, proxyRequest, serverResponse, proxyResponse, callback,
                failure);
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /**
     * Jetty's relay of the origin's response, with Tollgate's header copy: a parent's 407 is refused (the
     * challenge is for this proxy, not for the client, which cannot answer it), the address actually dialled is
     * noted for the row, and the origin's end-to-end headers are copied.
     */
    private final class ResponseRelay extends ProxyResponseListener {
        private final Request clientRequest;
        private final Response proxyResponse;
        private volatile boolean answered;

        ResponseRelay(Request clientRequest, org.eclipse.jetty.client.Request proxyRequest, Response proxyResponse,
                      Callback callback) {
            super(clientRequest, proxyRequest, proxyResponse, callback);
            this.clientRequest = clientRequest;
            this.proxyResponse = proxyResponse;
        }

        @Override
        public void onHeaders(org.eclipse.jetty.client.Response serverResponse) {
            if (serverResponse.getStatus() == 407 && parent.appliesTo(Request.getServerName(clientRequest))) {
                serverResponse.abort(new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE,
                        parent.describe() + (parent.authorization() == null ? " asks for credentials (407) and"
                                + " upstreamProxy has no username" : " refused our credentials (407)")));
                return;
            }
            if (serverResponse.getRequest().getConnection() != null) {
                SocketAddress remote = serverResponse.getRequest().getConnection().getRemoteSocketAddress();
                if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
                    ForwardRefusals.facts(clientRequest).upstreamAddr = inet.getAddress().getHostAddress();
                }
            }
            ResponseHeaders.copy(serverResponse.getHeaders(), proxyResponse.getHeaders());
        }

        @Override
        public void onSuccess(org.eclipse.jetty.client.Response serverResponse) {
            answered = true;
            super.onSuccess(serverResponse);
        }

        /**
         * An origin may answer in full before it has the whole request body and stop reading it (RFC 9112 9.6),
         * e.g. a 413 for an upload it refuses: sending the rest of the body then fails, but the exchange is that
         * answer, which the client got whole, not a failure of the upstream. A client that abandoned its own
         * upload keeps its CLIENT_ABORT.
         */
        @Override
        public void onComplete(Result result) {
            if (answered && result.getResponseFailure() == null && result.getRequestFailure() != null
                    && ForwardRefusals.facts(clientRequest).clientFailure == null) {
                super.onComplete(new Result(result.getRequest(), null, result.getResponse(), null));
                return;
            }
            super.onComplete(result);
        }
    }
}
