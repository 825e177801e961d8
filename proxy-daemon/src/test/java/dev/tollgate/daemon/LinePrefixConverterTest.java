package dev.tollgate.daemon;

import ch.qos.logback.classic.Level;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The syslog priorities (RFC 5424 6.2.1) journald reads off the front of each line. */
class LinePrefixConverterTest {

    @Test
    void eachLevelMapsToItsSyslogPriority() {
        assertEquals("<3>", LinePrefixConverter.priority(Level.ERROR));
        assertEquals("<4>", LinePrefixConverter.priority(Level.WARN));
        assertEquals("<6>", LinePrefixConverter.priority(Level.INFO));
        assertEquals("<7>", LinePrefixConverter.priority(Level.DEBUG));
        assertEquals("<7>", LinePrefixConverter.priority(Level.TRACE));
    }
}
