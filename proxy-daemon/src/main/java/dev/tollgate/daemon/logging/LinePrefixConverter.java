package dev.tollgate.daemon.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * {@code %linePrefix} in logback.xml: what starts each log line. In a terminal, or anywhere else, the time
 * ({@code 2026-11-27T11:37:06.874Z }). Under systemd with stdout going to the journal, which stamps every line
 * itself, a syslog priority instead ({@code <6>} for INFO, {@code <4>} WARN, {@code <3>} ERROR, {@code <7>}
 * DEBUG and TRACE): journald takes it off the line and stores it as the entry's PRIORITY, so
 * {@code journalctl -p warning} finds the warnings (sd-daemon(3), "SyslogLevelPrefix=" in systemd.exec(5)).
 */
public final class LinePrefixConverter extends ClassicConverter {

    /** The same stamp the pattern {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX}} wrote before. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
            .withZone(ZoneId.systemDefault());

    static final boolean TO_JOURNAL = toJournal();

    @Override
    public String convert(ILoggingEvent event) {
        return TO_JOURNAL ? priority(event.getLevel()) : TIME.format(event.getInstant()) + " ";
    }

    /**
     * Whether stdout goes to the journal: systemd sets INVOCATION_ID for every unit it starts and JOURNAL_STREAM
     * when stdout or stderr is connected to journald; a terminal (someone ran the daemon by hand inside a
     * session that carries those variables) keeps the time stamps.
     */
    private static boolean toJournal() {
        boolean underSystemd = System.getenv("INVOCATION_ID") != null || System.getenv("JOURNAL_STREAM") != null;
        return underSystemd && System.console() == null;
    }

    public static String priority(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> "<3>";
            case Level.WARN_INT -> "<4>";
            case Level.INFO_INT -> "<6>";
            default -> "<7>";
        };
    }
}
