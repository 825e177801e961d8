package dev.tollgate.admin.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The errors Jetty answers itself, before a call reaches the route table (an ambiguous or malformed URI such
 * as an encoded '/' in a listener name, a bad request line), as {@code {"error": "..."}} like every other
 * admin API error, instead of Jetty's HTML page; for every method, not only GET and POST.
 */
public final class JsonErrorHandler extends ErrorHandler {

    private final ObjectMapper json;

    public JsonErrorHandler(ObjectMapper json) {
        this.json = json;
    }

    /** Called by Jetty to ask whether an error to this method gets a body: always, as the API's own errors do. */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    /** Called by Jetty with the status and its reason; writes them as the API's error object. */
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        String reason = message == null || message.isBlank() ? HttpStatus.getMessage(code) : message;
        byte[] body = json.writeValueAsBytes(Map.of("error", reason));
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
