package dev.tollgate.daemon.exchange;

import dev.tollgate.daemon.gate.ProxyAuthenticator;
import dev.tollgate.daemon.policy.RequestRefusedException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Tollgate's own answer to a request it does not forward: the status and a one-line text body naming why. */
public final class RefusalResponse {

    static final int PROXY_AUTHENTICATION_REQUIRED = 407;

    private RefusalResponse() {
    }

    /** Sends the refusal and closes the connection after it. */
    public static void send(Response response, Callback callback, RequestRefusedException refused) {
        send(response, callback, refused, true);
    }

    /** Sends the refusal, and closes the connection after it when {@code close} says so. */
    public static void send(Response response, Callback callback, RequestRefusedException refused, boolean close) {
        try {
            response.setStatus(refused.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
            if (close) {
                response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE);
            }
            if (refused.status() == PROXY_AUTHENTICATION_REQUIRED) {
                response.getHeaders().put(HttpHeader.PROXY_AUTHENTICATE, ProxyAuthenticator.CHALLENGE);
            }
            if (refused.retryAfterSeconds() > 0) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, refused.retryAfterSeconds());
            }
            byte[] body = (refused.status() + " " + refused.reason() + "\n").getBytes(StandardCharsets.UTF_8);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
        } catch (Throwable x) {
            callback.failed(x);
        }
    }
}
