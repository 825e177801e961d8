package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.RawTunnel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real headless Chromium against a real daemon with a proxy listener and an origin: sign-in with
 * each role, the overview against the API's numbers, the access log's filter, pages, details, CSV export and live
 * tail while requests pass through the proxy, a listener stopped and started by the admin and refused to the
 * auditor, and what the browser sent: no token in a URL or a Referer, no CSP violation. Everything is awaited with
 * {@link Poll}; screenshots go to target/console-screenshots/.
 */
class ConsoleBrowserIT extends AdminApiTestBase {

    @TempDir
    Path browserDir;

    ConsoleBrowser browser;

    @BeforeEach
    void startBrowser() throws Exception {
        browser = closed.add(ConsoleBrowser.start(Files.createDirectories(browserDir.resolve("profile")),
                Files.createDirectories(browserDir.resolve("downloads"))));
    }

    @Test
    void anAuditorSignsInAndTheOverviewShowsTheApisNumbers() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        assertEquals(404, getThroughProxy("/missing").status());
        tollgate.awaitRows(2);

        signIn(auditorToken);

        assertEquals("Signed in as auditor", browser.textOf("#who"));
        Poll.until("the overview's numbers", () -> browser.textOf("[data-stat=requests]") != null);
        JsonNode stats = auditor.getJson("/api/v1/stats");
        JsonNode health = auditor.getJson("/api/v1/health");
        assertEquals(stats.get("totals").get("requests").asText(), browser.textOf("[data-stat=requests]"));
        assertEquals(String.valueOf(auditor.getJson("/api/v1/tunnels").get("tunnels").size()),
                browser.textOf("[data-stat=tunnels]"));
        assertEquals(stats.get("accessLog").get("written").asText(), browser.textOf("[data-stat=written]"));
        assertEquals(health.get("status").textValue(), browser.textOf("[data-stat=status]"));
        if (auditor.get("/api/v1/summary/series").status() == 404) {
            Poll.until("the summary's absence said", () -> browser.textOf("#summary").startsWith("No data yet"));
        } else {
            Poll.until("the chart drawn", () -> !browser.findAll("#chart-requests canvas").isEmpty());
        }
        browser.screenshot("overview-auditor");
        browser.resize(390, 844);
        browser.screenshot("overview-phone");
    }

    @Test
    void anOpenTunnelIsCountedOnTheOverviewAndListedWithItsEnds() throws Exception {
        try (RawTunnel tunnel = RawTunnel.established(tollgate.port(), echo.port())) {
            tunnel.roundTrip("ping");
            signIn(auditorToken);

            Poll.until("the tunnel counted", () -> "1".equals(browser.textOf("[data-stat=tunnels]")));
            browser.driver().get(console() + "#/tunnels");
            Poll.until("the tunnel listed", () -> browser.textOf("#page caption") != null
                    && browser.textOf("#page caption").startsWith("1 tunnel"));
            String row = browser.textOf("#page tbody tr");
            assertTrue(row.contains("127.0.0.1:" + echo.port()), row);
            assertTrue(row.contains("main"), row);
        }
    }

    @Test
    void aWrongTokenIsRefusedAndSigningOutForgetsTheToken() throws Exception {
        browser.driver().get(console());
        browser.find("#token").sendKeys(auditorToken + "x");
        browser.find("#sign-in-form button[type=submit]").click();

        Poll.until("the refusal shown", () -> browser.textOf("#sign-in-error").contains("not valid"));
        assertTrue(browser.find("#nav").getAttribute("hidden") != null, "no pages before a valid token");

        signIn(adminToken);
        assertEquals("Signed in as admin", browser.textOf("#who"));
        assertEquals(adminToken, browser.driver().executeScript("return sessionStorage.getItem('tollgate.token')"));
        browser.find("#sign-out").click();
        Poll.until("the sign-in form back", () -> browser.find("#sign-in").isDisplayed());
        assertEquals(null, browser.driver().executeScript("return sessionStorage.getItem('tollgate.token')"));
        assertEquals("", browser.driver().executeScript("return document.cookie"));
    }

    @Test
    void theConsoleIsUsableFromTheKeyboardWithTheFocusVisible() throws Exception {
        browser.driver().get(console());
        Poll.until("the sign-in form", () -> browser.find("#token").isDisplayed());
        browser.find("#token").sendKeys(auditorToken, Keys.ENTER);
        Poll.until("signed in", () -> "Signed in as auditor".equals(browser.textOf("#who")));

        WebElement focused = null;
        for (int tab = 0; tab < 20 && (focused == null || !"Access log".equals(focused.getText())); tab++) {
            browser.driver().switchTo().activeElement().sendKeys(Keys.TAB);
            focused = browser.driver().switchTo().activeElement();
        }
        assertEquals("Access log", focused.getText(), "the nav's links are reached with Tab");
        assertFalse("none".equals(focused.getCssValue("outline-style")), "the focus is visible");
        focused.sendKeys(Keys.ENTER);
        Poll.until("the access log opened", () -> "log".equals(browser.find("#page").getAttribute("data-page")));
        browser.find("#f-status").sendKeys("404", Keys.ENTER);
        Poll.until("the search run from the keyboard", () -> browser.textOf("#log-status").contains("No rows match"));
    }

    @Test
    void markupAClientWroteIntoTheLogIsShownAsTextNeverRun() throws Exception {
        // What a client chooses ends up in the log as it was sent: here markup in the path. The console must show it
        // as text, in the table and in the row's details, and run none of it.
        String hostile = "/<img/src=x/onerror=document.title='pwned'><b>bold</b>";
        getThroughProxy(hostile);
        tollgate.awaitRows(1);
        signIn(auditorToken);
        browser.driver().get(console() + "#/log");
        Poll.until("the row listed", () -> paths("#log-results").contains(hostile));
        browser.find("#log-results [data-details]").click();
        Poll.until("the row's details", () -> browser.textOf("#log-results tr.details").contains(hostile));

        assertEquals(0L, browser.driver().executeScript("return document.querySelectorAll('#page img, #page b')"
                + ".length"), "the path's markup became elements");
        assertFalse(String.valueOf(browser.driver().getTitle()).contains("pwned"));
    }

    @Test
    void anAuditorFiltersTheLogPagesItAndFollowsNewRowsAsTheyPassThroughTheProxy() throws Exception {
        assertEquals(200, getThroughProxy("/hello").status());
        for (String path : List.of("/gone-1", "/gone-2", "/gone-3")) {
            assertEquals(404, getThroughProxy(path).status());
        }
        tollgate.awaitRows(4);
        signIn(auditorToken);
        browser.driver().get(console() + "#/log");

        Poll.until("the log's form", () -> !browser.findAll("#f-status").isEmpty());
        browser.find("#f-status").sendKeys("404");
        browser.find("#f-limit").sendKeys("2");
        browser.find("#log-filter button[type=submit]").click();
        Poll.until("the first page of 404s", () -> paths("#log-results").equals(List.of("/gone-1", "/gone-2")));
        browser.find("#next-page").click();
        Poll.until("the second page", () -> paths("#log-results").equals(List.of("/gone-3")));
        browser.find("#log-results [data-details]").click();
        Poll.until("the row's every column", () -> browser.textOf("#log-results tr.details").contains("bytes_to_client"));

        browser.find("#live-tail").click();
        Poll.until("the tail following", () -> browser.textOf("#live-state").contains("following"));
        assertEquals(404, getThroughProxy("/live-1").status());
        assertEquals(200, getThroughProxy("/hello").status());
        assertEquals(404, getThroughProxy("/live-2").status());

        Poll.until("the new 404s in the live table", () -> paths("#live").equals(List.of("/live-2", "/live-1")));
        browser.screenshot("access-log-live-tail");
        browser.find("#live-tail").click();
        Poll.until("the tail stopped", () -> browser.textOf("#live-state").contains("stopped"));
    }

    @Test
    void theAdminStopsAndStartsAListenerAndTheAuditorIsRefusedByTheApi() throws Exception {
        signIn(adminToken);
        browser.driver().get(console() + "#/listeners");

        Poll.until("main running", () -> "RUNNING".equals(state("main")));
        browser.find("button[data-action=stop][data-listener=main]").click();
        Poll.until("main stopped", () -> "STOPPED".equals(state("main")));
        assertEquals("STOPPED", admin.getJson("/api/v1/listeners/main").get("state").textValue());
        // The overview, still loading when the test went on to the listeners, once finished below them.
        assertEquals(List.of("Listeners"), browser.findAll("#page h1").stream().map(WebElement::getText).toList());
        browser.screenshot("listeners-admin");
        browser.find("button[data-action=start][data-listener=main]").click();
        Poll.until("main running again", () -> "RUNNING".equals(state("main")));
        assertEquals("RUNNING", admin.getJson("/api/v1/listeners/main").get("state").textValue());

        browser.find("#sign-out").click();
        signIn(auditorToken);
        browser.driver().get(console() + "#/listeners");
        Poll.until("the listeners as the auditor", () -> "RUNNING".equals(state("main")));
        WebElement stop = browser.find("button[data-action=stop][data-listener=main]");
        assertFalse(stop.isEnabled(), "the auditor's stop button is disabled");
        browser.driver().executeScript("arguments[0].disabled = false", stop);
        stop.click();

        Poll.until("the API's refusal shown", () -> browser.textOf("#listener-message").contains("(403)"));
        assertEquals("RUNNING", admin.getJson("/api/v1/listeners/main").get("state").textValue());

        browser.driver().get(console() + "#/events");
        Poll.until("the trail of all three on the admin events page", () -> {
            String events = browser.textOf("#page table");
            return events != null && events.contains("listener.stop") && events.contains("listener.start")
                    && events.contains("REFUSED (403)");
        });
    }

    @Test
    void noTokenInAnyUrlOrRefererAndNoContentSecurityPolicyViolation() throws Exception {
        assertEquals(404, getThroughProxy("/exported").status());
        tollgate.awaitRows(1);
        signIn(auditorToken);
        for (String page : List.of("#/overview", "#/log", "#/tunnels", "#/listeners", "#/events")) {
            browser.driver().get(console() + page);
            Poll.until(page + " drawn", () -> page.endsWith(browser.find("#page").getAttribute("data-page"))
                    && !browser.findAll("#page h1").isEmpty());
        }
        browser.driver().get(console() + "#/log");
        Poll.until("the log's form", () -> !browser.findAll("#export-csv").isEmpty());
        browser.find("#export-csv").click();
        Path csv = browserDir.resolve("downloads").resolve("tollgate-access-log.csv");
        Poll.until("the CSV downloaded", () -> Files.exists(csv));
        assertTrue(Files.readString(csv).startsWith("id,ts,"), "the export's header");
        browser.find("#live-tail").click();
        Poll.until("the tail following", () -> browser.textOf("#live-state").contains("following"));

        List<String> requests = browser.performanceLog().stream()
                .filter(event -> event.contains("\"Network.requestWillBeSent\"")).toList();
        assertTrue(requests.stream().anyMatch(r -> r.contains("/api/v1/access-log/tail")), "the tail was requested");
        assertTrue(requests.stream().anyMatch(r -> r.contains("Bearer " + auditorToken)),
                "the token went in the Authorization header (the log shows request headers)");
        for (String request : requests) {
            JsonNode sent = AdminClient.JSON.readTree(request).get("message").get("params").get("request");
            assertFalse(sent.get("url").textValue().contains(auditorToken), () -> "token in URL: " + sent);
            JsonNode referer = sent.get("headers").get("Referer");
            assertTrue(referer == null || !referer.textValue().contains(auditorToken), () -> "token in Referer: " + sent);
        }
        // uPlot sizes and places its elements through element.style (the CSSOM), which style-src 'self' allows: on
        // this page, under its policy, a chart's plot area takes the width uPlot sets, and no violation is logged.
        String plotWidth = (String) browser.driver().executeAsyncScript("const done = arguments[arguments.length - 1];"
                + " import('/console/vendor/uplot/uPlot.esm.js').then(({ default: uPlot }) => {"
                + " const chart = new uPlot({ width: 400, height: 200, series: [{}, { stroke: 'red' }] },"
                + " [[1, 2, 3], [1, 3, 2]], document.getElementById('page'));"
                + " const plot = chart.root.querySelector('.u-under');" // sized in a microtask after the constructor
                + " setTimeout(() => done(plot.style.width + ' ' + getComputedStyle(plot).width)); },"
                + " (e) => done(String(e)));");
        String[] setAndApplied = plotWidth.split(" ");
        assertTrue(setAndApplied[0].matches("[1-9][0-9.]*px"), plotWidth);
        assertEquals(setAndApplied[0], setAndApplied[1], "the width uPlot set is the width applied");
        List<String> violations = browser.consoleLog().stream()
                .filter(message -> message.contains("Content Security Policy")).toList();
        assertEquals(List.of(), violations);
    }

    private String console() {
        return "http://127.0.0.1:" + tollgate.adminPort() + "/console/";
    }

    private void signIn(String token) throws Exception {
        browser.driver().get(console());
        Poll.until("the sign-in form", () -> browser.find("#token").isDisplayed());
        browser.find("#token").sendKeys(token);
        browser.find("#sign-in-form button[type=submit]").click();
        Poll.until("signed in", () -> browser.textOf("#who").startsWith("Signed in as"));
    }

    /**
     * The paths in the rows of the table under {@code css}, top to bottom, read in one script so that a table
     * redrawn meanwhile is read whole or not at all.
     */
    @SuppressWarnings("unchecked")
    private List<String> paths(String css) {
        return (List<String>) browser.driver().executeScript("return [...document.querySelectorAll(arguments[0]"
                + " + ' tbody tr[data-id]')].map(row => row.cells[6].textContent)", css);
    }

    /** The state the listeners page shows for {@code name}, or null before it is drawn. */
    private String state(String name) {
        return (String) browser.driver().executeScript("const row = document.querySelector("
                + "'#page tr[data-listener=\"' + arguments[0] + '\"]'); return row ? row.dataset.state : null;", name);
    }
}
