package dev.tollgate.daemon.proxy;

import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.tls.UpstreamTrust;
import dev.tollgate.store.Outcome;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpProxy;
import org.eclipse.jetty.client.Origin;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.RoundRobinConnectionPool;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.ee10.servlet.ServletContextResponse;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Forwards absolute-form HTTP requests to their origin through Jetty's AsyncProxyServlet (bodies streamed
 * both ways without blocking threads), after the listener's policy and the loop guard have had their say.
 * Every outcome, forwarded or refused, is left as {@link ExchangeFacts} for the {@link AccessRecorder}.
 */
public class ForwardProxyServlet extends AsyncProxyServlet {

    private static final int BAD_REQUEST = 400;
    private static final int REQUEST_TIMEOUT = 408;
    private static final int BAD_GATEWAY = 502;
    private static final String X_FORWARDED_FOR = HttpHeader.X_FORWARDED_FOR.asString();
    private static final String FORWARDED = HttpHeader.FORWARDED.asString();
    /** The hop-by-hop headers of RFC 9110 7.6.1 and their common predecessors, never passed on to the client. */
    private static final Set<HttpHeader> HOP_BY_HOP = EnumSet.of(HttpHeader.CONNECTION, HttpHeader.KEEP_ALIVE,
            HttpHeader.PROXY_CONNECTION, HttpHeader.PROXY_AUTHENTICATE, HttpHeader.PROXY_AUTHORIZATION,
            HttpHeader.TE, HttpHeader.TRAILER, HttpHeader.TRANSFER_ENCODING, HttpHeader.UPGRADE);

    private final ListenerConfig config;
    private final AccessPolicy policy;
    private final ProxyAuthenticator authenticator;
    private final ParentProxy parent;
    private final LoopGuard loopGuard;
    private final KeyStore upstreamTrust;

    public ForwardProxyServlet(ListenerConfig config, AccessPolicy policy, ProxyAuthenticator authenticator,
                               ParentProxy parent, LoopGuard loopGuard) {
        this.config = config;
        this.policy = policy;
        this.authenticator = authenticator;
        this.parent = parent;
        this.loopGuard = loopGuard;
        // Read now, so that an unreadable intercept.trustBundle stops the listener's start with its name.
        this.upstreamTrust = UpstreamTrust.trustStore(config.intercept().trustBundle());
    }

    /**
     * Called for every request that passed the HTTP parser. Refuses origin-form targets, non-http schemes,
     * looped requests, clients outside {@code allowClients}, missing or wrong proxy credentials and
     * destinations refused by name; forwards the rest (the destination's address is checked when it is
     * resolved, see {@link GuardedResolver}).
     */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        ExchangeFacts facts = ExchangeFacts.forward(config.logQuery());
        facts.intercepted = (TunnelSession) request.getAttribute(TunnelSession.INTERCEPTED_ATTRIBUTE);
        request.setAttribute(ExchangeFacts.ATTRIBUTE, facts);
        try {
            validateClientRequest(request);
        } catch (RequestRefusedException refused) {
            refuse(request, response, refused);
            return;
        }
        super.service(request, response);
    }

    private void validateClientRequest(HttpServletRequest request) throws RequestRefusedException {
        if (request.getAttribute(OriginFormMarker.ATTRIBUTE) != null) {
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "this is a forward proxy: the"
                    + " request target must be an absolute URI such as http://host/path (RFC 9112 3.2.2)");
        }
        if ("HTTP/1.0".equals(request.getProtocol()) && request.getHeader(HttpHeader.TRANSFER_ENCODING.asString())
                != null) {
            // Jetty's parser reads such a body as chunked; RFC 9112 6.1 says the framing is faulty instead.
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0"
                    + " request: its framing cannot be trusted (RFC 9112 6.1)");
        }
        TunnelSession intercepted = facts(request).intercepted;
        if (intercepted != null) {
            // Inside an intercepted tunnel only its own origin is reached: the CONNECT was checked for it.
            if (!"https".equalsIgnoreCase(request.getScheme()) || request.getServerPort() != intercepted.port
                    || !intercepted.host.equalsIgnoreCase(unbracketed(request.getServerName()))) {
                throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "inside the intercepted tunnel"
                        + " to " + intercepted.host + ":" + intercepted.port + " only requests for "
                        + intercepted.origin() + " are forwarded");
            }
        } else if (!"http".equalsIgnoreCase(request.getScheme())) {
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "scheme " + request.getScheme()
                    + " is not forwarded: send https through a CONNECT tunnel");
        }
        loopGuard.checkVia(Collections.list(request.getHeaders(HttpHeader.VIA.asString())));
        policy.checkClient(clientAddress(request));
        facts(request).username = authenticator.authenticate(
                request.getHeader(HttpHeader.PROXY_AUTHORIZATION.asString()));
        String host = request.getServerName();
        if (parent.appliesTo(host)) {
            // The parent resolves the name: only the name (or an address literal) can be checked here.
            InetAddress literal = AddressLiterals.parse(host);
            if (literal != null) {
                loopGuard.checkDestination(new InetSocketAddress(literal, request.getServerPort()));
            }
            policy.checkDestination(host, literal);
        } else {
            policy.checkDestinationName(host);
        }
    }

    /**
     * Called once per request for the URI it is sent to: for a decrypted request, its intercepted tunnel's origin
     * with the request's path and query, built here because Jetty's own rewrite of such a request reached the
     * origin in plain text in a trial (the origin answered a TLS alert); otherwise Jetty's, the absolute-form
     * target.
     */
    @Override
    protected String rewriteTarget(HttpServletRequest clientRequest) {
        TunnelSession intercepted = (TunnelSession) clientRequest.getAttribute(TunnelSession.INTERCEPTED_ATTRIBUTE);
        if (intercepted == null) {
            return super.rewriteTarget(clientRequest);
        }
        String query = clientRequest.getQueryString();
        return intercepted.origin() + clientRequest.getRequestURI() + (query == null ? "" : "?" + query);
    }

    /**
     * Builds the HttpClient that dials origins: listener timeouts, the guarded resolver and the parent proxy
     * (for the destinations {@code noProxy} does not exempt).
     */
    @Override
    protected HttpClient newHttpClient() {
        HttpClient client = super.newHttpClient();
        client.setConnectTimeout(config.connectTimeoutMs());
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
        // The servlet API takes a response body as byte[]: Jetty's proxy servlet copies each chunk the client
        // read into a direct buffer into a new array, and passes a heap buffer's own array as it is.
        client.setUseInputDirectByteBuffers(false);
        client.setSocketAddressResolver(new LazyGuardedResolver(client));
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
        return client;
    }

    /**
     * Called after the client's end-to-end headers were copied (Jetty drops hop-by-hop ones, Proxy-Authorization
     * among them, RFC 9110 7.6.1): adds Via, then X-Forwarded-For and Forwarded as {@code forwardedFor} says,
     * then the parent's own Proxy-Authorization when the request goes through it.
     */
    @Override
    protected void addProxyHeaders(HttpServletRequest clientRequest, org.eclipse.jetty.client.Request proxyRequest) {
        super.addProxyHeaders(clientRequest, proxyRequest);
        if (parent.authorization() != null && parent.appliesTo(clientRequest.getServerName())) {
            proxyRequest.headers(h -> h.put(HttpHeader.PROXY_AUTHORIZATION, parent.authorization()));
        }
    }

    /**
     * {@code forwardedFor}: {@code off} adds nothing (a client-sent X-Forwarded-For or Forwarded passes through
     * as any end-to-end header), {@code on} appends the client's address to both (RFC 7239 4: a value the client
     * sent is kept and appended to), {@code delete} strips both.
     */
    @Override
    protected void addForwardedHeader(HttpServletRequest clientRequest, org.eclipse.jetty.client.Request
            proxyRequest) {
        switch (config.forwardedFor()) {
            case ListenerConfig.FORWARDED_FOR_ON -> {
                String client = clientRequest.getRemoteAddr();
                String node = client.indexOf(':') >= 0 ? "\"[" + client + "]\"" : client;
                proxyRequest.headers(h -> {
                    append(h, X_FORWARDED_FOR, client);
                    append(h, FORWARDED, "for=" + node);
                });
            }
            case ListenerConfig.FORWARDED_FOR_DELETE -> proxyRequest.headers(h -> {
                h.remove(X_FORWARDED_FOR);
                h.remove(FORWARDED);
            });
            default -> {
                // off: nothing added, nothing taken away.
            }
        }
    }

    private static void append(HttpFields.Mutable headers, String name, String value) {
        List<String> sent = headers.getValuesList(name);
        headers.remove(name);
        headers.put(name, sent.isEmpty() ? value : String.join(", ", sent) + ", " + value);
    }

    /** Watches the client's request body: one that stops arriving ends the request with 408. */
    @Override
    protected ReadListener newReadListener(HttpServletRequest request, HttpServletResponse response,
                                           org.eclipse.jetty.client.Request proxyRequest,
                                           AsyncRequestContent content) {
        return new StallWatchingReader(request, response, proxyRequest, content);
    }

    /** Notes the address actually dialled, then copies the origin's end-to-end headers. */
    @Override
    protected void onServerResponseHeaders(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                           Response serverResponse) {
        ExchangeFacts facts = facts(clientRequest);
        if (serverResponse.getStatus() == 407 && parent.appliesTo(clientRequest.getServerName())) {
            // The parent's challenge is for this proxy, not for the client, which cannot answer it.
            serverResponse.abort(new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE,
                    parent.describe() + (parent.authorization() == null ? " asks for credentials (407) and"
                            + " upstreamProxy has no username" : " refused our credentials (407)")));
            return;
        }
        if (facts != null && serverResponse.getRequest().getConnection() != null) {
            SocketAddress remote = serverResponse.getRequest().getConnection().getRemoteSocketAddress();
            if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
                facts.upstreamAddr = inet.getAddress().getHostAddress();
            }
        }
        copyResponseHeaders(serverResponse.getHeaders(), proxyResponse);
    }

    /**
     * Copies the origin's response headers to the client's response, leaving out the hop-by-hop ones: those of
     * RFC 9110 7.6.1, those the origin's {@code Connection} header names, and empty ones (as Jetty's own copy
     * does); the origin's {@code Date} takes the place of the listener's own. The fields are passed on as they
     * are, not rebuilt from their names and values, which Jetty's copy does at the cost of a lower-cased name and
     * a header lookup per field.
     */
    private static void copyResponseHeaders(HttpFields origin, HttpServletResponse proxyResponse) {
        Set<String> nominated = null;
        for (String token : origin.getCSV(HttpHeader.CONNECTION, false)) {
            if (nominated == null) {
                nominated = new HashSet<>();
            }
            nominated.add(token.toLowerCase(Locale.ROOT));
        }
        HttpFields.Mutable target = ServletContextResponse.getServletContextResponse(proxyResponse).getHeaders();
        for (HttpField field : origin) {
            HttpHeader header = field.getHeader();
            if (header != null && HOP_BY_HOP.contains(header)) {
                continue;
            }
            String value = field.getValue();
            if (value == null || value.isBlank()
                    || (nominated != null && nominated.contains(field.getLowerCaseName()))) {
                continue;
            }
            if (header == HttpHeader.DATE) {
                // The origin's Date replaces the one the listener put in (a second Date field is invalid).
                target.put(field);
                continue;
            }
            target.add(field);
        }
    }

    /**
     * Called when the exchange with the origin failed: before its response began (answered 502, 504 or the
     * policy's own status) or in the middle of it (the client connection is cut, so a truncated body never
     * looks complete).
     */
    @Override
    protected void onProxyResponseFailure(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                          Response serverResponse, Throwable failure) {
        boolean begun = proxyResponse.isCommitted();
        // The origin may have sent its status line while nothing was committed to the client yet.
        boolean upstreamBegun = begun || (serverResponse != null && serverResponse.getStatus() > 0);
        String destination = clientRequest.getServerName() + ":" + clientRequest.getServerPort();
        if (parent.appliesTo(clientRequest.getServerName())) {
            destination = parent.describe() + " (for " + destination + ")";
        }
        ExchangeFacts known = facts(clientRequest);
        // A failed client body aborts the upstream exchange, which then fails too: the client's fault stands.
        RequestRefusedException refused = known != null && known.clientFailure != null ? known.clientFailure
                : clientBodyFailure(clientRequest, failure);
        if (refused == null) {
            refused = UpstreamFailures.classify(failure, destination, upstreamBegun);
        }
        if (begun) {
            facts(clientRequest).refused(refused);
            super.onProxyResponseFailure(clientRequest, proxyResponse, serverResponse, failure);
            return;
        }
        refuse(clientRequest, proxyResponse, refused);
    }

    /**
     * Called when reading the client's request body failed after forwarding began: its chunked framing was
     * malformed (the parser meets a bad chunk only after the head was handed on: 400, BAD_REQUEST), the client
     * closed mid-body, or it stalled (CLIENT_ABORT). Jetty then aborts the upstream exchange, whose failure
     * {@link #onProxyResponseFailure} answers with this cause, not as the upstream's.
     */
    @Override
    protected void onClientRequestFailure(HttpServletRequest clientRequest, org.eclipse.jetty.client.Request
            proxyRequest, HttpServletResponse proxyResponse, Throwable failure) {
        RequestRefusedException refused = clientBodyFailure(clientRequest, failure);
        if (refused == null) {
            refused = new RequestRefusedException(failure instanceof TimeoutException ? 408 : BAD_REQUEST,
                    Outcome.CLIENT_ABORT, "client request body failed: " + failure);
        }
        ExchangeFacts facts = facts(clientRequest);
        facts.clientFailure = refused;
        facts.refused(refused);
        super.onClientRequestFailure(clientRequest, proxyRequest, proxyResponse, failure);
    }

    /**
     * The writer of the origin's response to the client. When writing fails (a broken pipe: the client left
     * mid-response) the exchange is the client's abort, not the upstream's failure that Jetty reports next.
     */
    @Override
    protected StreamWriter newWriteListener(HttpServletRequest request, Response serverResponse) {
        return new StreamWriter(request, serverResponse) {
            @Override
            public void onError(Throwable failure) {
                ExchangeFacts facts = facts(request);
                if (facts != null && facts.clientFailure == null) {
                    facts.clientFailure = new RequestRefusedException(BAD_REQUEST, Outcome.CLIENT_ABORT, "the"
                            + " client closed its connection before the response was complete (" + failure + ")");
                }
                super.onError(failure);
            }
        };
    }

    /**
     * The client's share of a failure, or null if it is not the client's: Jetty's server side reports a body it
     * could not read as an {@link HttpException} (its parser turns a malformed chunk into an early EOF), whereas
     * its HTTP client wraps an upstream's bad response in an exception of its own.
     */
    private static RequestRefusedException clientBodyFailure(HttpServletRequest request, Throwable failure) {
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

    private static boolean clientInputClosed(HttpServletRequest request) {
        EndPoint endPoint = clientEndPoint(request);
        return endPoint == null || endPoint.isInputShutdown();
    }

    private static EndPoint clientEndPoint(HttpServletRequest request) {
        ServletContextRequest servletRequest = ServletContextRequest.getServletContextRequest(request);
        return servletRequest == null ? null : servletRequest.getConnectionMetaData().getConnection().getEndPoint();
    }

    private void refuse(HttpServletRequest request, HttpServletResponse response, RequestRefusedException refused) {
        ExchangeFacts facts = facts(request);
        if (facts != null) {
            facts.refused(refused);
        }
        try {
            response.resetBuffer();
            response.setStatus(refused.status());
            response.setContentType("text/plain;charset=utf-8");
            if (refused.status() >= 500 || refused.status() == BAD_REQUEST || refused.status() == REQUEST_TIMEOUT) {
                response.setHeader(HttpHeader.CONNECTION.asString(), HttpHeaderValue.CLOSE.asString());
            }
            if (refused.status() == RefusalResponse.PROXY_AUTHENTICATION_REQUIRED) {
                response.setHeader(HttpHeader.PROXY_AUTHENTICATE.asString(), ProxyAuthenticator.CHALLENGE);
            }
            byte[] body = (refused.status() + " " + refused.reason() + "\n").getBytes(StandardCharsets.UTF_8);
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        } catch (IOException | IllegalStateException e) {
            _log.debug("could not send refusal {}", refused.status(), e);
        } finally {
            if (request.isAsyncStarted()) {
                AsyncContext async = request.getAsyncContext();
                async.complete();
            }
        }
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static ExchangeFacts facts(HttpServletRequest request) {
        return (ExchangeFacts) request.getAttribute(ExchangeFacts.ATTRIBUTE);
    }

    private static InetAddress clientAddress(HttpServletRequest request) throws RequestRefusedException {
        try {
            // An IP literal: InetAddress parses it without any DNS lookup.
            return InetAddress.getByName(request.getRemoteAddr());
        } catch (IOException e) {
            throw new RequestRefusedException(403, Outcome.DENIED, "client address " + request.getRemoteAddr()
                    + " cannot be read");
        }
    }

    /**
     * The guarded resolver over Jetty's asynchronous one, built on first use because the client's executor
     * and scheduler exist only once it has started.
     */
    private final class LazyGuardedResolver implements SocketAddressResolver {
        private final HttpClient client;
        private volatile SocketAddressResolver resolver;

        LazyGuardedResolver(HttpClient client) {
            this.client = client;
        }

        @Override
        public void resolve(String host, int port, java.util.Map<String, Object> context,
                            org.eclipse.jetty.util.Promise<java.util.List<InetSocketAddress>> promise) {
            SocketAddressResolver current = resolver;
            if (current == null) {
                current = new GuardedResolver(new SocketAddressResolver.Async(client.getExecutor(),
                        client.getScheduler(), client.getAddressResolutionTimeout()), loopGuard, policy, parent);
                resolver = current;
            }
            current.resolve(host, port, context, promise);
        }
    }

    /**
     * The request-body reader that also watches for a stall: when no body byte arrived for
     * {@code requestBodyStallTimeoutMs}, the exchange is aborted and the client answered 408 (its row says
     * CLIENT_TIMEOUT). Checks run on the HttpClient's scheduler, one pending at a time.
     */
    private final class StallWatchingReader extends StreamReader {
        private final org.eclipse.jetty.client.Request proxyRequest;
        private final long stallNanos = TimeUnit.MILLISECONDS.toNanos(config.requestBodyStallTimeoutMs());
        private volatile long lastProgressNanos = System.nanoTime();
        private volatile boolean finished;
        private volatile Scheduler.Task pending;

        StallWatchingReader(HttpServletRequest request, HttpServletResponse response,
                            org.eclipse.jetty.client.Request proxyRequest, AsyncRequestContent content) {
            super(request, response, proxyRequest, content);
            this.proxyRequest = proxyRequest;
            schedule(stallNanos);
        }

        private void schedule(long delayNanos) {
            pending = getHttpClient().getScheduler().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
        }

        private void check() {
            if (finished) {
                return;
            }
            long quiet = System.nanoTime() - lastProgressNanos;
            if (quiet < stallNanos) {
                schedule(stallNanos - quiet);
                return;
            }
            finished = true;
            proxyRequest.abort(new RequestRefusedException(REQUEST_TIMEOUT, Outcome.CLIENT_TIMEOUT,
                    "request body stalled: no byte arrived for " + config.requestBodyStallTimeoutMs()
                            + " ms (requestBodyStallTimeoutMs)"));
        }

        private void stop() {
            finished = true;
            Scheduler.Task task = pending;
            if (task != null) {
                task.cancel();
            }
        }

        @Override
        protected void onRequestContent(HttpServletRequest request, org.eclipse.jetty.client.Request proxyRequest,
                                        AsyncRequestContent content, byte[] buffer, int offset, int length,
                                        Callback callback) {
            lastProgressNanos = System.nanoTime();
            super.onRequestContent(request, proxyRequest, content, buffer, offset, length, callback);
        }

        @Override
        public void onAllDataRead() {
            stop();
            super.onAllDataRead();
        }

        @Override
        public void onError(Throwable failure) {
            stop();
            super.onError(failure);
        }
    }
}
