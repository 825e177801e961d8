package dev.tollgate.daemon.admin;

import dev.tollgate.testing.AdminClient;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's files as a browser sees them, over plain HTTP: every file the page loads (followed from
 * index.html through its stylesheets, scripts and module imports) is served without a token, with its content
 * type, the strict Content-Security-Policy and the other headers; no inline script or style that the policy would
 * have to allow; a foreign Host refused as on the API; nothing but the console's own files under /console/.
 */
class ConsoleSecurityIT extends AdminApiTestBase {

    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final Pattern LINKED = Pattern.compile("(?:href|src)=\"([^\"#:]+)\"");
    private static final Pattern IMPORTED = Pattern.compile("(?m)^import [^;]*? from '([^']+)';");
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8");

    @Test
    void everyFileThePageLoadsHasItsTypeAndTheStrictHeadersWithoutAToken() throws Exception {
        Set<String> files = consoleFiles();

        assertTrue(files.containsAll(List.of("/console/", "/console/app.js", "/console/console.css",
                "/console/vendor/uplot/uPlot.esm.js", "/console/vendor/uplot/uPlot.min.css")), files::toString);
        for (String file : files) {
            AdminClient.Reply reply = anonymous.get(file);
            assertEquals(200, reply.status(), reply::toString);
            String extension = file.endsWith("/") ? "html" : file.substring(file.lastIndexOf('.') + 1);
            assertEquals(TYPES.get(extension), reply.header("Content-Type"), file);
            assertStrictHeaders(reply);
        }
        AdminClient.Reply head = anonymous.send("HEAD", "/console/", Map.of(), HttpRequest.BodyPublishers.noBody());
        assertEquals(200, head.status(), head::toString);
        assertEquals(0, head.body().length);
        assertStrictHeaders(head);
        AdminClient.Reply licence = anonymous.get("/console/vendor/uplot/LICENSE.txt");
        assertEquals(200, licence.status());
        assertTrue(licence.text().contains("MIT"), licence::text);
    }

    @Test
    void thePageHasNoInlineScriptOrStyleForThePolicyToAllow() throws Exception {
        for (String file : consoleFiles()) {
            String text = anonymous.get(file).text();
            if (file.endsWith("/") || file.endsWith(".html")) {
                assertFalse(text.contains("<style"), file + " has a style element");
                assertFalse(Pattern.compile("\\sstyle=").matcher(text).find(), file + " has a style attribute");
                assertFalse(Pattern.compile("\\son[a-z]+=").matcher(text).find(), file + " has an inline handler");
                Matcher script = Pattern.compile("<script([^>]*)>").matcher(text);
                while (script.find()) {
                    assertTrue(script.group(1).contains("src="), file + " has an inline script");
                }
            }
            if (file.endsWith(".js") && !file.contains("/vendor/")) {
                assertFalse(text.contains("innerHTML"), file + " writes HTML from strings");
                assertFalse(text.contains("eval("), file + " evaluates strings");
            }
        }
    }

    @Test
    void theRootAndConsoleWithoutASlashRedirectToTheConsole() throws Exception {
        for (String path : List.of("/", "/console")) {
            AdminClient.Reply reply = anonymous.get(path);
            assertEquals(302, reply.status(), reply::toString);
            assertTrue(reply.header("Location").endsWith("/console/"), reply::toString);
            assertStrictHeaders(reply);
        }
    }

    @Test
    void aConsoleRequestWithAHostThatIsNotTheAdminAddressIs403() throws Exception {
        for (String path : List.of("/", "/console/", "/console/app.js", "/console/vendor/uplot/uPlot.esm.js")) {
            for (String host : List.of("evil.example", "evil.example:" + tollgate.adminPort(), "127.0.0.2")) {
                AdminClient.Reply reply = anonymous.sendRaw(
                        dev.tollgate.testing.RawHttpConnection.head("GET", path, host));
                assertError(403, reply);
                assertStrictHeaders(reply);
            }
        }
    }

    @Test
    void nothingButTheConsolesOwnFilesIsServedUnderConsole() throws Exception {
        for (String path : List.of("/console/nothing.js", "/console/App.js", "/console/app.js.map",
                "/console/dev/tollgate/admin/AdminServer.class", "/console/vendor/uplot/uPlot.cjs.js",
                "/console/%2e%2e/%2e%2e/logback.xml", "/console/vendor/uplot/%2e%2e/%2e%2e/%2e%2e/logback.xml",
                "/console/META-INF/MANIFEST.MF", "/console/vendor/other/x.js")) {
            AdminClient.Reply reply = anonymous.sendRaw(dev.tollgate.testing.RawHttpConnection.head("GET", path,
                    "127.0.0.1:" + tollgate.adminPort()));
            assertTrue(reply.status() == 404 || reply.status() == 400, reply::toString);
        }
        AdminClient.Reply post = anonymous.send("POST", "/console/", Map.of(), HttpRequest.BodyPublishers.noBody());
        assertError(405, post);
        assertEquals("GET, HEAD", post.header("Allow"));
    }

    private static void assertStrictHeaders(AdminClient.Reply reply) {
        assertEquals(CSP, reply.header("Content-Security-Policy"), reply::toString);
        assertEquals("DENY", reply.header("X-Frame-Options"), reply::toString);
        assertEquals("nosniff", reply.header("X-Content-Type-Options"), reply::toString);
        assertEquals("no-referrer", reply.header("Referrer-Policy"), reply::toString);
        assertEquals("no-cache", reply.header("Cache-Control"), reply::toString);
    }

    /** The console's files, followed from index.html: its links and scripts, then each module's imports. */
    private Set<String> consoleFiles() throws Exception {
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> next = new ArrayDeque<>(List.of("/console/"));
        while (!next.isEmpty()) {
            String file = next.pop();
            if (!seen.add(file)) {
                continue;
            }
            String text = anonymous.get(file).expect(200).text();
            String dir = file.substring(0, file.lastIndexOf('/') + 1);
            Matcher found = (file.endsWith(".js") ? IMPORTED : LINKED).matcher(text);
            while (found.find()) {
                next.add(resolve(dir, found.group(1)));
            }
        }
        return seen;
    }

    private static String resolve(String dir, String relative) {
        String path = relative.startsWith("/") ? relative : dir + relative.replaceFirst("^\\./", "");
        return java.net.URI.create("http://x" + path).normalize().getPath();
    }
}
