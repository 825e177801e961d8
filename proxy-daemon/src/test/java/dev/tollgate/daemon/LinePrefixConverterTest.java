package dev.tollgate.daemon;

import ch.qos.logback.classic.Level;
import dev.tollgate.daemon.logging.LinePrefixConverter;
import dev.tollgate.daemon.logging.LinePrefixThrowableConverter;
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

    @Test
    void everyLineOfAStackTraceCarriesThePriority() {
        String trace = "java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n";

        assertEquals("<3>java.lang.IllegalStateException: boom\n<3>\tat a.B.c(B.java:1)\n<3>\tat a.B.d(B.java:2)\n",
                LinePrefixThrowableConverter.prefixEachLine(trace, "<3>"));
    }

    @Test
    void noExceptionAddsNothing() {
        assertEquals("", LinePrefixThrowableConverter.prefixEachLine("", "<3>"));
    }
}
