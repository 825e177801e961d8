package dev.tollgate.daemon.forward;

import dev.tollgate.daemon.policy.AddressLiterals;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.URIUtil;

/**
 * What RFC 9110 and 3986 say of a forwarded request's own form, before any rule of the listener's: a TRACE or
 * OPTIONS that may go no further is answered here, and a target whose authority Jetty's client could not dial is
 * refused. Called by {@link ForwardProxyHandler#handle}.
 */
final class RequestForm {

    private static final int BAD_REQUEST = 400;
    private static final int MAX_PORT = 65_535;

    private RequestForm() {
    }

    /**
     * RFC 9110 7.6.2: a TRACE or OPTIONS whose Max-Forwards is 0 "MUST NOT" be forwarded; this proxy answers it
     * as the final recipient. OPTIONS gets 200 with what this proxy itself allows (Content-Length 0, RFC 9110
     * 9.3.7); TRACE gets 405 with Allow (RFC 9110 15.5.6), not an echo, which would reflect the client's
     * credentials and cookies (RFC 9110 9.3.8 has the final recipient leave those out).
     */
    static boolean answeredAsFinalRecipient(Request request, Response response, Callback callback) {
        String method = request.getMethod();
        if (!HttpMethod.TRACE.is(method) && !HttpMethod.OPTIONS.is(method)
                || maxForwards(request.getHeaders()) != 0) {
            return false;
        }
        response.setStatus(HttpMethod.OPTIONS.is(method) ? 200 : 405);
        response.getHeaders().put(HttpHeader.ALLOW, HttpMethod.OPTIONS.asString());
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
        response.write(true, null, callback);
        return true;
    }

    /**
     * The Host header of a request forwarded to {@code host}:{@code port} over {@code scheme}: the target's authority
     * (RFC 9112 3.2.2), its port left out when it is the scheme's default, as Jetty's HttpClient writes it. Made
     * here because the client, given no Host, builds it from a {@link java.net.URI} that it parses anew for each
     * request (about 0.9 KB of garbage a request, docs/performance.md, session 19).
     *
     * @param host as the client's request holds it: an IPv6 address in brackets
     */
    static String originHost(String scheme, String host, int port) {
        return URIUtil.normalizePortForScheme(scheme, port) > 0 ? host + ":" + port : host;
    }

    /** The Max-Forwards value, or -1 when there is none or it is not a number. */
    static long maxForwards(HttpFields headers) {
        String value = headers.get(HttpHeader.MAX_FORWARDS);
        if (value == null || value.isEmpty() || value.length() > 9 || !value.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(value);
    }

    /**
     * Refuses an absolute-form target whose authority is not a host with a port in range. Jetty's HttpClient
     * builds the origin request from a {@link java.net.URI}, which has no host for spellings such as
     * {@code 127.1}, {@code 0x7f.0.0.1} or {@code 127.0.0.1.} (a name's last label cannot start with a digit,
     * RFC 2396 3.2.2), nor for names outside RFC 2396's host name grammar ({@code a_b.example},
     * {@code -a.example}, {@code a..example}): without this check such a request ended in Jetty's HTML 500 page,
     * with a WARN and its stack trace in the daemon's log.
     */
    static void checkTargetAuthority(HttpURI uri) throws RequestRefusedException {
        String host = uri.getHost();
        int port = uri.getPort();
        if (host == null || host.isEmpty() || port == 0 || port > MAX_PORT || !javaUriReadsHost(host)) {
            throw new RequestRefusedException(BAD_REQUEST, Outcome.BAD_REQUEST, "the request target's authority is"
                    + " not a host with an optional port from 1 to 65535 (RFC 3986 3.2.2; a name of letters, digits"
                    + " and inner hyphens, an IPv4 address or a bracketed IPv6 one): " + uri.getAuthority());
        }
    }

    /**
     * Whether {@link java.net.URI} reads {@code host} as a host. The spellings nearly every request uses, a
     * dotted-quad IPv4 address and a host name (RFC 2396 3.2.2: labels of letters, digits and inner hyphens, the
     * last one starting with a letter, an optional final dot), and bracketed IPv6 addresses, which Jetty's parser
     * has checked, are answered without building one; anything else is parsed.
     */
    static boolean javaUriReadsHost(String host) {
        if (AddressLiterals.isDottedQuad(host) || isHostName(host) || host.startsWith("[")) {
            return true;
        }
        try {
            return java.net.URI.create("http://" + host + "/").getHost() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isHostName(String host) {
        int end = host.endsWith(".") ? host.length() - 1 : host.length();
        int labelStart = 0;
        for (int i = 0; i <= end; i++) {
            if (i < end && host.charAt(i) != '.') {
                char c = host.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')) {
                    return false;
                }
                continue;
            }
            // A label ends at i: not empty, neither starting nor ending with a hyphen.
            if (i == labelStart || host.charAt(labelStart) == '-' || host.charAt(i - 1) == '-') {
                return false;
            }
            if (i == end) {
                char first = host.charAt(labelStart);
                return first >= 'a' && first <= 'z' || first >= 'A' && first <= 'Z';
            }
            labelStart = i + 1;
        }
        return false;
    }
}
