package dev.tollgate.daemon.forward;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** Which of an origin's response headers reach the client. */
final class ResponseHeaders {

    /** The hop-by-hop headers of RFC 9110 7.6.1 and their common predecessors, never passed on to the client. */
    private static final Set<HttpHeader> HOP_BY_HOP = EnumSet.of(HttpHeader.CONNECTION, HttpHeader.KEEP_ALIVE,
            HttpHeader.PROXY_CONNECTION, HttpHeader.PROXY_AUTHENTICATE, HttpHeader.PROXY_AUTHORIZATION,
            HttpHeader.TE, HttpHeader.TRAILER, HttpHeader.TRANSFER_ENCODING, HttpHeader.UPGRADE);

    private ResponseHeaders() {
    }

    /**
     * Copies the origin's response headers to the client's response, leaving out the hop-by-hop ones: those of
     * RFC 9110 7.6.1, those the origin's {@code Connection} header names, and empty ones; the origin's
     * {@code Date} takes the place of the listener's own. The fields are passed on as they are.
     */
    static void copy(HttpFields origin, HttpFields.Mutable target) {
        Set<String> nominated = nominated(origin);
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
     * The header names the origin's {@code Connection} fields list, lower case; null when they list none but
     * {@code keep-alive}, as most origins' responses do ({@code Keep-Alive} is hop-by-hop anyway): no set and no
     * parse for them, about 0.4 KB a response (docs/performance.md, session 19).
     */
    private static Set<String> nominated(HttpFields origin) {
        boolean onlyKeepAlive = true;
        for (HttpField field : origin) {
            if (field.getHeader() == HttpHeader.CONNECTION && !"keep-alive".equalsIgnoreCase(field.getValue())) {
                onlyKeepAlive = false;
                break;
            }
        }
        if (onlyKeepAlive) {
            return null;
        }
        Set<String> nominated = new HashSet<>();
        for (String token : origin.getCSV(HttpHeader.CONNECTION, false)) {
            nominated.add(token.toLowerCase(Locale.ROOT));
        }
        return nominated;
    }
}
