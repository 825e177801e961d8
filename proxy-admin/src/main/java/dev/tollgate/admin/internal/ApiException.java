package dev.tollgate.admin.internal;

import java.util.Map;

/** An answer other than success: the status and a message a person can act on, sent as {"error": "..."}. */
public final class ApiException extends Exception {

    private final int status;
    private final Map<String, String> headers;

    public ApiException(int status, String message) {
        this(status, message, Map.of());
    }

    public ApiException(int status, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.headers = Map.copyOf(headers);
    }

    public int status() {
        return status;
    }

    /** Headers that belong with this status, such as Allow for 405 or WWW-Authenticate for 401. */
    public Map<String, String> headers() {
        return headers;
    }
}
