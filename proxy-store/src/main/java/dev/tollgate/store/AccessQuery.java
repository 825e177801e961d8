package dev.tollgate.store;

import java.time.Instant;

/**
 * A filter over the access log and a cursor into it: the {@code GET /api/v1/access-log} query. Every filter
 * left {@code null} matches everything; those set must all match. Rows come in id order, oldest first,
 * starting after the id {@code after}. Start from {@link #all()} and narrow it with the {@code withXxx}
 * methods, each of which returns a new query. Validated when built: an impossible value names the key, the
 * value and the limit.
 *
 * @param since       rows with {@code ts} at or after this instant
 * @param until       rows with {@code ts} before this instant (exclusive, so that consecutive ranges do not
 *                    overlap)
 * @param host        the destination host, exactly as stored; or {@code *.example.com}: any subdomain of
 *                    example.com, at any depth, but not example.com itself
 * @param client      the client's address, exactly as stored
 * @param method      the request method, exactly (CONNECT for tunnels)
 * @param statusCode  the status sent to the client, exactly (100 to 599); never set with {@code statusClass}
 * @param statusClass the class of that status: 1 to 5 for 1xx to 5xx; never set with {@code statusCode}
 * @param listener    the listener's name
 * @param username    the proxy-auth user
 * @param outcome     how the request ended
 * @param kind        FORWARD, TUNNEL or INTERCEPT
 * @param node        the node that served the request (several share one PostgreSQL log: docs/fleet.md)
 * @param limit       the most rows one page holds, 1 to {@value #MAX_LIMIT}; {@value #DEFAULT_LIMIT} by default.
 *                    {@link AccessLogReader#streamAll} ignores it.
 * @param after       the cursor: only rows with an id greater than this; 0 (the default) for the first page
 */
public record AccessQuery(
        Instant since,
        Instant until,
        String host,
        String client,
        String method,
        Integer statusCode,
        Integer statusClass,
        String listener,
        String username,
        Outcome outcome,
        Kind kind,
        String node,
        int limit,
        long after) {

    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_LIMIT = 10_000;
    /** The prefix of a host filter that matches any subdomain of what follows it. */
    public static final String ANY_SUBDOMAIN = "*.";
    // RFC 9110, section 15: a status code is three digits, and only 1xx to 5xx are defined.
    static final int MIN_STATUS_CODE = 100;
    static final int MAX_STATUS_CODE = 599;

    public AccessQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " is out of range (1 to " + MAX_LIMIT + ")");
        }
        if (after < 0) {
            throw new IllegalArgumentException("after: " + after + " is negative (ids start at 1; 0 means from the start)");
        }
        if (statusCode != null && (statusCode < MIN_STATUS_CODE || statusCode > MAX_STATUS_CODE)) {
            throw new IllegalArgumentException("status: " + statusCode + " is out of range (" + MIN_STATUS_CODE
                    + " to " + MAX_STATUS_CODE + ", or a class 1 to 5)");
        }
        if (statusClass != null && (statusClass < 1 || statusClass > 5)) {
            throw new IllegalArgumentException("status class: " + statusClass + " is out of range (1 to 5)");
        }
        if (statusCode != null && statusClass != null) {
            throw new IllegalArgumentException("status: both code " + statusCode + " and class " + statusClass
                    + " given (one or the other)");
        }
        if (since != null && until != null && !since.isBefore(until)) {
            throw new IllegalArgumentException("until: " + until + " is not after since " + since);
        }
        if (host != null && host.indexOf('*') >= 0 && !isSuffixPattern(host)) {
            throw new IllegalArgumentException("host: \"" + host + "\" may use * only as a leading \"*.\""
                    + " followed by a domain (e.g. *.example.com)");
        }
    }

    /** Every row, first page: no filter, {@value #DEFAULT_LIMIT} rows, from the start. */
    public static AccessQuery all() {
        return new AccessQuery(null, null, null, null, null, null, null, null, null, null, null, null, DEFAULT_LIMIT,
                0);
    }

    /** Whether {@link #host} is a {@code *.example.com} pattern rather than one host. */
    public boolean hostIsSuffixPattern() {
        return host != null && isSuffixPattern(host);
    }

    /** The domain whose subdomains a {@code *.example.com} host filter matches ({@code example.com}), or null. */
    public String hostSuffixDomain() {
        return hostIsSuffixPattern() ? host.substring(ANY_SUBDOMAIN.length()) : null;
    }

    public AccessQuery withSince(Instant value) {
        return new AccessQuery(value, until, host, client, method, statusCode, statusClass, listener, username,
                outcome, kind, node, limit, after);
    }

    public AccessQuery withUntil(Instant value) {
        return new AccessQuery(since, value, host, client, method, statusCode, statusClass, listener, username,
                outcome, kind, node, limit, after);
    }

    /** An exact host, or {@code *.example.com} for any subdomain of example.com. */
    public AccessQuery withHost(String value) {
        return new AccessQuery(since, until, value, client, method, statusCode, statusClass, listener, username,
                outcome, kind, node, limit, after);
    }

    public AccessQuery withClient(String value) {
        return new AccessQuery(since, until, host, value, method, statusCode, statusClass, listener, username,
                outcome, kind, node, limit, after);
    }

    public AccessQuery withMethod(String value) {
        return new AccessQuery(since, until, host, client, value, statusCode, statusClass, listener, username,
                outcome, kind, node, limit, after);
    }

    /** One status code (e.g. 404); replaces a status class. */
    public AccessQuery withStatusCode(Integer value) {
        return new AccessQuery(since, until, host, client, method, value, null, listener, username,
                outcome, kind, node, limit, after);
    }

    /** A status class, 1 to 5 for 1xx to 5xx; replaces a status code. */
    public AccessQuery withStatusClass(Integer value) {
        return new AccessQuery(since, until, host, client, method, null, value, listener, username,
                outcome, kind, node, limit, after);
    }

    public AccessQuery withListener(String value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, value, username,
                outcome, kind, node, limit, after);
    }

    public AccessQuery withUsername(String value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, listener, value,
                outcome, kind, node, limit, after);
    }

    public AccessQuery withOutcome(Outcome value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, listener, username,
                value, kind, node, limit, after);
    }

    public AccessQuery withKind(Kind value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, listener, username,
                outcome, value, node, limit, after);
    }

    /** Rows of one node only; null for every node's. */
    public AccessQuery withNode(String value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, listener, username,
                outcome, kind, value, limit, after);
    }

    public AccessQuery withLimit(int value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, listener, username,
                outcome, kind, node, value, after);
    }

    /** The next page: rows after this id (the last id of the page before). */
    public AccessQuery withAfter(long value) {
        return new AccessQuery(since, until, host, client, method, statusCode, statusClass, listener, username,
                outcome, kind, node, limit, value);
    }

    private static boolean isSuffixPattern(String host) {
        return host.startsWith(ANY_SUBDOMAIN)
                && host.length() > ANY_SUBDOMAIN.length()
                && host.indexOf('*', 1) < 0;
    }
}
