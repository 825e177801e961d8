package dev.tollgate.daemon;

import dev.tollgate.testing.CsvRecords;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tollgate report} as a child process on the log a real daemon wrote: OK requests, upstream failures and
 * refusals counted once each in the totals, the days adding up to the totals, the sites and the refusals ranked,
 * in all three formats, while the daemon runs (read as the auditor) and after it stopped (the file opened directly);
 * and bad command lines refused with exit 2 and the option named.
 */
class ReportCommandIT extends ChildProcessTestBase {

    private static final int OK = 5;
    private static final int UNREACHABLE = 2;
    private static final int BAD = 1;
    private static final int ALL = OK + UNREACHABLE + BAD;

    @Test
    void theReportCountsWhatTheDaemonStoredInEachFormatLiveAndStopped() throws Exception {
        Path state = dir.resolve("state");
        Path config = writeConfig("report", state, "{\"sqlPort\": 0}");
        try (WebOrigin origin = WebOrigin.plain()) {
            TollgateProcess daemon = launch("run", "--config", config.toString());
            int proxyPort = Integer.parseInt(daemon.awaitLine(LISTENING, START_DEADLINE).group(1));
            daemon.awaitLine(STARTED, START_DEADLINE);
            HttpClient client = ProxyClient.through(proxyPort);
            for (int i = 0; i < OK; i++) {
                assertEquals(200, ProxyClient.get(client, origin.url("/hello")).statusCode());
            }
            for (int i = 0; i < UNREACHABLE; i++) {
                // Port 1 on loopback: nothing listens, the connect is refused.
                assertEquals(502, ProxyClient.get(client, "http://127.0.0.1:1/").statusCode());
            }
            assertEquals(400, RawHttpConnection.getVia(proxyPort, "http://a_b.example/").status());

            List<String[]> live = Poll.forMatch("a report with " + ALL + " requests and its top lists",
                    START_DEADLINE, () -> csv(config), rows -> total(rows) == ALL && rows.stream()
                            .anyMatch(r -> r[0].equals("refusals")));
            checkCounts(live);

            Path html = dir.resolve("weekly.html");
            Finished page = runToEnd("report", "--config", config.toString(), "--format", "html", "-o",
                    html.toString());
            assertEquals(0, page.exit(), page.output());
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(html)));
            String text = Files.readString(html);
            assertTrue(text.startsWith("<!DOCTYPE html>") && text.contains("<svg") && !text.contains("<script"),
                    text);
            assertTrue(text.contains("<b>" + ALL + "</b>requests"), text);

            daemon.sigterm();
            assertEquals(0, daemon.awaitExit(EXIT_DEADLINE), daemon.output());
        }
        checkCounts(csv(config));
        Finished text = runToEnd("report", "--config", config.toString());
        assertEquals(0, text.exit(), text.output());
        assertTrue(text.stdout().contains("Requests      " + ALL + " (" + (UNREACHABLE + BAD) + " not OK, 0"
                + " authentication failures)"), text.stdout());
    }

    @Test
    void aBadCommandLineIsRefusedNamingTheOption() throws Exception {
        Path config = writeConfig("bad", dir.resolve("state"), "{\"sqlPort\": 0}");
        assertRefused(config, "--since: \"last week\" is not a time ago", "--since", "last week");
        assertRefused(config, "--format: \"pdf\" is not text, csv or html", "--format", "pdf");
        assertRefused(config, "--top: 0 is not from 1 to 1000", "--top", "0");
        assertRefused(config, "must be before --until", "--since", "2026-12-01", "--until", "2026-11-01");
    }

    private void assertRefused(Path config, String expected, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("report", "--config", config.toString()));
        command.addAll(Arrays.asList(args));
        Finished refused = runToEnd(command.toArray(String[]::new));
        assertEquals(2, refused.exit(), refused.output());
        assertTrue(refused.stderr().contains(expected), refused.output());
    }

    private static void checkCounts(List<String[]> rows) {
        long days = rows.stream().filter(r -> r[0].equals("day")).mapToLong(r -> Long.parseLong(r[3])).sum();
        assertEquals(ALL, days, "the days add up to the totals");
        String[] total = rows.stream().filter(r -> r[0].equals("total")).findFirst().orElseThrow();
        assertEquals(String.valueOf(UNREACHABLE + BAD), total[4], "not OK");
        String[] topHost = rows.stream().filter(r -> r[0].equals("hosts_by_requests")).findFirst().orElseThrow();
        assertEquals("127.0.0.1", topHost[2]);
        assertEquals(String.valueOf(OK + UNREACHABLE), topHost[3]);
        String[] topRefusal = rows.stream().filter(r -> r[0].equals("refusals")).findFirst().orElseThrow();
        assertTrue(topRefusal[2].startsWith("UPSTREAM_UNREACHABLE"), String.join(",", topRefusal));
        assertEquals(String.valueOf(UNREACHABLE), topRefusal[3]);
        assertFalse(rows.stream().anyMatch(r -> r[0].equals("users_by_requests")), "no proxy users here");
    }

    private List<String[]> csv(Path config) throws Exception {
        Finished report = runToEnd("report", "--config", config.toString(), "--format", "csv");
        assertEquals(0, report.exit(), report.output());
        List<String[]> rows = new ArrayList<>();
        for (List<String> record : CsvRecords.parse(report.stdout())) {
            rows.add(record.toArray(String[]::new));
        }
        assertEquals("section,rank,key,requests,not_ok,auth_failures,bytes_from_client,bytes_to_client",
                String.join(",", rows.get(0)));
        return rows;
    }

    private static long total(List<String[]> rows) {
        return rows.stream().filter(r -> r[0].equals("total")).mapToLong(r -> Long.parseLong(r[3])).sum();
    }
}
