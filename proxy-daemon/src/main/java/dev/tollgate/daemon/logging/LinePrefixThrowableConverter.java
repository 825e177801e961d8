package dev.tollgate.daemon.logging;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %linePrefixEx} in logback.xml: the stack trace of a logged exception, as {@code %ex} writes it, but
 * when the lines go to the journal each line of it starts with the event's priority too. journald stores every
 * stdout line as its own entry and gives a line without a prefix priority 6 (info), so without this the stack
 * trace of an ERROR would be filed as info, away from its first line under {@code journalctl -p err}.
 */
public final class LinePrefixThrowableConverter extends ThrowableProxyConverter {

    @Override
    public String convert(ILoggingEvent event) {
        String trace = super.convert(event);
        return LinePrefixConverter.TO_JOURNAL ? prefixEachLine(trace, LinePrefixConverter.priority(event.getLevel()))
                : trace;
    }

    /** Each line of {@code text} (lines end with a line break) with {@code prefix} in front. */
    public static String prefixEachLine(String text, String prefix) {
        if (text.isEmpty()) {
            return text;
        }
        StringBuilder prefixed = new StringBuilder(text.length() + 64);
        for (String line : text.split("\\R", -1)) {
            prefixed.append(line.isEmpty() ? "" : prefix).append(line).append('\n');
        }
        // split(-1) yields an empty last element after the final line break: drop the break added for it
        prefixed.setLength(prefixed.length() - 1);
        return prefixed.toString();
    }
}
