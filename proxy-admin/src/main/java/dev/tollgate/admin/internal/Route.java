package dev.tollgate.admin.internal;

import dev.tollgate.admin.Role;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One line of the admin API's route table: method, path pattern ({@code {name}} matches one segment of
 * letters, digits, '.', '_' and '-'), the role needed (null for the public health check), the action name
 * written to the admin-event trail (null for reads) and the handler.
 */
public record Route(String method, String pattern, Role needed, String action, Handler handler) {

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** Handles one matched call. */
    @FunctionalInterface
    public interface Handler {
        void handle(ApiExchange exchange) throws Exception;
    }

    /** Whether {@code path} matches this route's pattern; path parameters go into {@code params}. */
    public boolean matches(String path, Map<String, String> params) {
        List<String> want = List.of(pattern.substring(1).split("/", -1));
        List<String> have = List.of(path.substring(1).split("/", -1));
        if (want.size() != have.size()) {
            return false;
        }
        Map<String, String> found = new HashMap<>();
        for (int i = 0; i < want.size(); i++) {
            String w = want.get(i);
            String h = have.get(i);
            if (w.startsWith("{")) {
                if (!SEGMENT.matcher(h).matches() || h.equals(".") || h.equals("..")) {
                    return false;
                }
                found.put(w.substring(1, w.length() - 1), h);
            } else if (!w.equals(h)) {
                return false;
            }
        }
        params.putAll(found);
        return true;
    }
}
