package dev.tollgate.daemon.forward;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * The client's request as the forwarding path sees it once Tollgate has decided to forward it: without its
 * {@code Expect: 100-continue}. Tollgate answers that expectation itself (Jetty sends the client {@code 100
 * Continue} when the forwarding first reads the body, which it does as soon as the origin's connection is ready
 * for it) and sends the origin a request without it.
 *
 * <p>Why not relay the origin's own 100: Jetty's HTTP client holds a body whose request says {@code Expect:
 * 100-continue} until the origin answers 100, without any time limit, and Jetty's proxy reads nothing from the
 * client until then. An origin that reads the body without sending 100 first (RFC 9110 10.1.1 lets it) and a
 * client that sends it after its own short wait (curl: 1 s) then wait for each other until the idle timeout.
 * RFC 9110 10.1.1 asks a proxy to answer at once with a final status if the head decides it, or else to begin
 * forwarding: Tollgate's refusals are all decided on the head, before this point. See docs/reliability.md.
 */
final class ContinueAnsweredRequest extends Request.Wrapper {

    private final HttpFields headers;

    private ContinueAnsweredRequest(Request request, HttpFields headers) {
        super(request);
        this.headers = headers;
    }

    /**
     * {@code request} itself when it carries no Expect field, otherwise a view of it without one (Jetty has
     * already answered any expectation other than 100-continue with 417, RFC 9110 10.1.1).
     */
    static Request of(Request request) {
        HttpFields sent = request.getHeaders();
        if (!sent.contains(HttpHeader.EXPECT)) {
            return request;
        }
        return new ContinueAnsweredRequest(request, HttpFields.build(sent).remove(HttpHeader.EXPECT).asImmutable());
    }

    @Override
    public HttpFields getHeaders() {
        return headers;
    }
}
