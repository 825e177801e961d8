package dev.tollgate.admin.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.admin.Role;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.Set;

/**
 * One admin API call as the resources see it: who made it, its path parameters, query and JSON body, and a
 * way to answer. Reading and writing block: the admin server has its own small thread pool for that.
 */
public final class ApiExchange {

    /** Request bodies above this are refused with 413. */
    public static final int MAX_BODY_BYTES = 1 << 20;
    /**
     * A refused body up to this size is read and thrown away before the 413 goes out: closing a connection with
     * bytes unread makes the kernel send a reset, which can reach the client before it has read the answer.
     */
    private static final long DISCARD_LIMIT_BYTES = 8L << 20;

    private final Request request;
    private final Response response;
    private final Role role;
    private final Map<String, String> pathParameters;
    private final ObjectMapper json;
    private final boolean holdBody;
    private byte[] heldBody;
    private Fields query;
    private String subject;
    private String detail;

    /**
     * @param holdBody keep a JSON answer's body until {@link #release()}: status and headers are set at once, so
     *                 the dispatcher can write the admin event before the client has its answer
     */
    ApiExchange(Request request, Response response, Role role, Map<String, String> pathParameters,
                ObjectMapper json, boolean holdBody) {
        this.holdBody = holdBody;
        this.request = request;
        this.response = response;
        this.role = role;
        this.pathParameters = pathParameters;
        this.json = json;
    }

    /** The caller's role, or null on the one public endpoint. */
    public Role role() {
        return role;
    }

    public String clientAddr() {
        return Request.getRemoteAddr(request);
    }

    /** The listener a mutating call acts on, for the admin-event trail (the path's, unless a resource says). */
    public String subject() {
        return subject != null ? subject : pathParameters.get("name");
    }

    /** Names the listener this call acts on when the path does not (a create names it in its body). */
    public void subject(String listenerName) {
        this.subject = listenerName;
    }

    /** What a successful mutating call did, for the admin-event trail's detail (a refusal gives its reason). */
    public String detail() {
        return detail;
    }

    public void detail(String whatWasDone) {
        this.detail = whatWasDone;
    }

    public String pathParameter(String name) {
        return pathParameters.get(name);
    }

    /** A query parameter's value, or null. */
    public String query(String name) {
        return queryFields().getValue(name);
    }

    /** Refuses query parameters other than the ones named, so a misspelt filter is not silently ignored. */
    public void allowOnlyQuery(Set<String> names) throws ApiException {
        for (String name : queryFields().getNames()) {
            if (!names.contains(name)) {
                throw new ApiException(400, "unknown query parameter \"" + name + "\" (known: "
                        + String.join(", ", new java.util.TreeSet<>(names)) + ")");
            }
        }
    }

    public String header(HttpHeader header) {
        return request.getHeaders().get(header);
    }

    /** A request header by name, for the ones Jetty has no constant for (Last-Event-ID); null when absent. */
    public String header(String name) {
        return request.getHeaders().get(name);
    }

    /** Sets a header of the answer; before {@link #stream} or {@link #sendJson}. */
    public void responseHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    /**
     * Runs {@code onGone} (perhaps more than once) when the client of a long streamed answer (a live tail) has
     * gone away: when Jetty fails the call, or when the connection becomes readable. Jetty does not read a
     * connection while its request is handled, so a closed one would be noticed only at the next write that
     * fails; an HTTP/1.1 client waiting for a streamed answer sends nothing more, so a readable connection means it
     * closed it (or broke the protocol). Such an answer is sent with {@code Connection: close}: the read interest
     * taken here is never handed back for a next request.
     */
    public void onClientGone(Runnable onGone) {
        request.addFailureListener(failure -> onGone.run());
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        endPoint.tryFillInterested(Callback.from(onGone, failure -> onGone.run()));
    }

    /** The body as JSON: 415 unless it is application/json, 413 above 1 MiB, 400 when it does not parse. */
    public JsonNode readJson() throws ApiException, IOException {
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new ApiException(415, "the body must be JSON: send Content-Type: application/json");
        }
        long declared = request.getLength();
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            if (declared > MAX_BODY_BYTES) {
                // A client waiting for 100 Continue has sent nothing: the 413 tells it not to.
                if (declared <= DISCARD_LIMIT_BYTES
                        && !request.getHeaders().contains(HttpHeader.EXPECT, "100-continue")) {
                    in.skip(declared); // reads and drops up to that many bytes, fewer at the body's end
                }
                throw new ApiException(413, "the body is " + declared + " bytes; the limit is " + MAX_BODY_BYTES);
            }
            body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                in.skip(DISCARD_LIMIT_BYTES - body.length);
                throw new ApiException(413, "the body is over the limit of " + MAX_BODY_BYTES + " bytes");
            }
        }
        if (body.length == 0) {
            throw new ApiException(400, "the body is empty: send a JSON object");
        }
        try {
            return json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Answers {@code status} with {@code body} as JSON. */
    public void sendJson(int status, Object body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        if (holdBody) {
            heldBody = bytes;
            return;
        }
        write(bytes);
    }

    /** Sends a held body (see the constructor); does nothing when none is held. */
    void release() throws IOException {
        if (heldBody != null) {
            byte[] bytes = heldBody;
            heldBody = null;
            write(bytes);
        }
    }

    private void write(byte[] bytes) throws IOException {
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(bytes);
        }
    }

    /** Answers 204 No Content. */
    public void sendNoContent() throws IOException {
        response.setStatus(204);
        if (holdBody) {
            heldBody = new byte[0];
            return;
        }
        Content.Sink.asOutputStream(response).close();
    }

    /** Starts a streamed answer of the given type; the caller writes and closes the stream. */
    public OutputStream stream(int status, String contentType) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        return Content.Sink.asOutputStream(response);
    }

    private Fields queryFields() {
        if (query == null) {
            query = Request.extractQueryParameters(request);
        }
        return query;
    }
}
