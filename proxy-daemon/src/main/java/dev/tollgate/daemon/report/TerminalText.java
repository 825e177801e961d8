package dev.tollgate.daemon.report;

/**
 * Values from the access log (what clients wrote: hosts, paths, user names, reasons) as a terminal may show them:
 * control characters written as escapes, so that an ESC sequence in a host name cannot move the cursor or recolour
 * the screen of whoever reads {@code tollgate sql}'s tables or a text report.
 */
public final class TerminalText {

    private TerminalText() {
    }

    /**
     * {@code text} with CR, LF and TAB written as backslash-r, -n and -t and other control characters as
     * backslash-u and four hex digits; text without any comes back as it is. Keeps a row of a table on one line.
     */
    public static String escapeControls(String text) {
        StringBuilder escaped = null;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (!Character.isISOControl(ch)) {
                if (escaped != null) {
                    escaped.append(ch);
                }
                continue;
            }
            if (escaped == null) {
                escaped = new StringBuilder(text.substring(0, i));
            }
            escaped.append(switch (ch) {
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> String.format("\\u%04x", (int) ch);
            });
        }
        return escaped == null ? text : escaped.toString();
    }
}
