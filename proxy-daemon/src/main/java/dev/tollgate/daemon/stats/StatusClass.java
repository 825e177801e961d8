package dev.tollgate.daemon.stats;

/**
 * The class of a status sent to a client (RFC 9110 15: the first digit), as the stats and the metrics both name
 * it. A status outside 100-599 (none is sent today; a record of a connection that got no answer could carry 0)
 * is {@link #OTHER}: the metrics count it there, the stats' {@code requestsByStatusClass} leave it out.
 */
enum StatusClass {
    INFORMATIONAL("1xx"), SUCCESSFUL("2xx"), REDIRECTION("3xx"), CLIENT_ERROR("4xx"), SERVER_ERROR("5xx"),
    OTHER("other");

    /** The five classes RFC 9110 defines, in order: the keys of the stats' {@code requestsByStatusClass}. */
    static final StatusClass[] DEFINED = {INFORMATIONAL, SUCCESSFUL, REDIRECTION, CLIENT_ERROR, SERVER_ERROR};

    private static final StatusClass[] ALL = values();

    /** The name in the admin API's stats and the metrics' {@code status_class} label. */
    final String label;

    StatusClass(String label) {
        this.label = label;
    }

    static StatusClass of(int status) {
        return status >= 100 && status < 600 ? ALL[status / 100 - 1] : OTHER;
    }
}
