package dev.tollgate.daemon;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's stdout log lines as journald and a terminal get them: under systemd a syslog priority and no
 * time (journald stamps each line), otherwise the time first, as before.
 */
class JournalLoggingIT extends ChildProcessTestBase {

    private static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:\\d+$");
    private static final Pattern STOPPED = Pattern.compile(" - stopped$");
    private static final Pattern JOURNAL_LINE = Pattern.compile("^<[3-7]>(TRACE|DEBUG|INFO |WARN |ERROR) \\[");
    private static final Pattern TIMED_LINE = Pattern.compile(
            "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) (TRACE|DEBUG|INFO |WARN |ERROR) \\[");
    private static final Pattern ANY_TIME = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d");

    @Test
    void underASystemdUnitEachLineStartsWithItsPriorityAndNoTime() throws Exception {
        List<String> lines = runAndStop(Map.of("INVOCATION_ID", "0123456789abcdef0123456789abcdef"));

        for (String line : lines) {
            assertTrue(JOURNAL_LINE.matcher(line).find(), () -> "not a journal line: " + line);
            assertTrue(!ANY_TIME.matcher(line).find(), () -> "a time stamp journald would duplicate: " + line);
        }
        assertTrue(lines.stream().anyMatch(line -> line.startsWith("<6>INFO ") && LISTENING.matcher(line).find()),
                () -> "no <6> listening line in " + lines);
    }

    @Test
    void withStdoutToTheJournalEachLineStartsWithItsPriority() throws Exception {
        List<String> lines = runAndStop(Map.of("JOURNAL_STREAM", "8:12345"));

        for (String line : lines) {
            assertTrue(JOURNAL_LINE.matcher(line).find(), () -> "not a journal line: " + line);
        }
    }

    @Test
    void outsideSystemdEachLineStartsWithTheTime() throws Exception {
        List<String> lines = runAndStop(Map.of());

        for (String line : lines) {
            assertTrue(TIMED_LINE.matcher(line).find(), () -> "no time first: " + line);
        }
    }

    /** Runs the daemon until it listens, stops it with SIGTERM and returns its stdout lines, none of them empty. */
    private List<String> runAndStop(Map<String, String> environment) throws Exception {
        Path config = Files.writeString(dir.resolve("tollgate.json"), """
                {
                    "stateDir": "%s",
                    "listeners": [{"name": "main", "port": 0}],
                    "admin": {"port": 0},
                    "store": {"sqlPort": -1}
                }
                """.formatted(dir.resolve("state")));
        TollgateProcess child = TollgateProcess.launchWithEnvironment(dir, environment, "run", "--config",
                config.toString());
        killedAfterTest(child);
        child.awaitLine(LISTENING, START_DEADLINE);
        child.sigterm();
        child.awaitLine(STOPPED, EXIT_DEADLINE);
        assertEquals(0, child.awaitExit(EXIT_DEADLINE), child.output());
        List<String> lines = child.stdout();
        assertTrue(lines.size() >= 3, child::output);
        assertTrue(lines.stream().noneMatch(String::isBlank), child::output);
        return lines;
    }
}
