package dev.tollgate.daemon.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The entries of {@code connectPorts}: a whole number ({@code 443}) or a range string ({@code "8443-8445"},
 * both ends included). Kept as written, so that the admin API shows the list as it was given.
 */
public final class PortRanges {

    private static final Pattern RANGE = Pattern.compile("\\s*(\\d{1,5})\\s*(?:-\\s*(\\d{1,5})\\s*)?");

    private PortRanges() {
    }

    /** The first and last port of one entry that {@link #validate} accepted. */
    public static int[] bounds(Object entry) {
        if (entry instanceof Integer port) {
            return new int[] {port, port};
        }
        Matcher m = RANGE.matcher((String) entry);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a port range: " + entry);
        }
        int first = Integer.parseInt(m.group(1));
        int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
        return new int[] {first, last};
    }

    static List<Object> validate(String key, List<Object> values) {
        List<Object> checked = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            Object value = values.get(i);
            String where = key + "[" + i + "]";
            if (value instanceof Integer port) {
                Checks.intInRange(where, port, 0, 1, 65_535);
            } else if (value instanceof String text) {
                Matcher m = RANGE.matcher(text);
                if (!m.matches()) {
                    throw new IllegalArgumentException(where + ": \"" + text + "\" is not a port or a range (write"
                            + " 443 or \"8443-8445\")");
                }
                int first = Integer.parseInt(m.group(1));
                int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
                if (first < 1 || last > 65_535 || first > last) {
                    throw new IllegalArgumentException(where + ": \"" + text + "\" is out of range (ports 1 to"
                            + " 65535, the first not above the last)");
                }
            } else {
                throw new IllegalArgumentException(where + ": " + (value instanceof String ? "\"" + value + "\""
                        : String.valueOf(value)) + " is not a port or a range (a whole number 1 to 65535, or a"
                        + " string such as \"8443-8445\")");
            }
            checked.add(value);
        }
        return List.copyOf(checked);
    }
}
