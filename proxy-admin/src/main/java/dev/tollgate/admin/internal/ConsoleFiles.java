package dev.tollgate.admin.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The auditor's console: static files from this jar ({@code dev/tollgate/admin/console/}) and uPlot from its
 * WebJar, under {@code /console/}, with {@code /} sent there. The files hold no data, so they need no token;
 * every number the console shows comes from the API with the token the user pasted. They are still behind the
 * Host check, as the API is, and leave with a strict Content-Security-Policy: no inline script or style, no
 * third-party origin, no framing (docs/security.md, "The console").
 *
 * <p>Only names of lower-case letters, digits and '-' with a known extension are looked up, so no path can
 * reach another resource of the classpath; anything else is a 404.
 */
public final class ConsoleFiles extends Handler.Abstract {

    /** Where the console lives on the admin port. */
    public static final String PREFIX = "/console/";
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self';"
            + " frame-ancestors 'none'";
    private static final String ROOT = "dev/tollgate/admin/console/";
    private static final String VENDOR = "vendor/uplot/";
    private static final String UPLOT_POM = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
    private static final Pattern NAME = Pattern.compile("[a-z0-9-]+(/[a-z0-9-]+)*\\.(html|js|css|svg|png|txt)");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "txt", "text/plain; charset=utf-8");
    /** The files of uPlot's WebJar the console uses, by the name it asks for; its LICENSE travels with them. */
    private static final Map<String, String> UPLOT_FILES = Map.of(
            "uPlot.esm.js", "dist/uPlot.esm.js",
            "uPlot.min.css", "dist/uPlot.min.css",
            "LICENSE.txt", "LICENSE");

    private final AllowedHosts allowedHosts;
    private final ObjectMapper json;
    private final String uplotRoot;

    public ConsoleFiles(AllowedHosts allowedHosts, ObjectMapper json) {
        this.allowedHosts = allowedHosts;
        this.json = json;
        this.uplotRoot = "META-INF/resources/webjars/uplot/" + uplotVersion() + "/";
    }

    /**
     * Called by Jetty for every request to the admin port; takes {@code /} and {@code /console...} and leaves the
     * rest (the API, {@code /metrics}) to the next handler by returning false.
     */
    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        if (!path.equals("/") && !path.equals("/console") && !path.startsWith(PREFIX)) {
            return false;
        }
        securityHeaders(response);
        try {
            allowedHosts.check(request);
        } catch (ApiException e) {
            sendError(response, callback, e.status(), e.getMessage());
            return true;
        }
        String method = request.getMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            sendError(response, callback, 405, method + " is not allowed on the console's files; allowed: GET, HEAD");
            return true;
        }
        if (!path.startsWith(PREFIX)) {
            Response.sendRedirect(request, response, callback, PREFIX);
            return true;
        }
        String name = path.substring(PREFIX.length());
        String resource = resource(name.isEmpty() ? "index.html" : name);
        byte[] body = resource == null ? null : read(resource);
        if (body == null) {
            sendError(response, callback, 404, "no such file in the console: " + path);
            return true;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, TYPES.get(extension(resource)));
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback); // Jetty sends no body to a HEAD
        return true;
    }

    /**
     * The headers every console answer carries, errors included. {@code no-cache} makes the browser ask again
     * each time, so a console upgraded with the daemon is never mixed with files of the old one.
     */
    private static void securityHeaders(Response response) {
        response.getHeaders().put("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        response.getHeaders().put("X-Frame-Options", "DENY");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        response.getHeaders().put("Referrer-Policy", "no-referrer");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
    }

    /** The classpath resource for a file name under /console/, or null when there is none of that name. */
    private String resource(String name) {
        if (name.startsWith(VENDOR)) {
            String file = UPLOT_FILES.get(name.substring(VENDOR.length()));
            return file == null ? null : uplotRoot + file;
        }
        return NAME.matcher(name).matches() ? ROOT + name : null;
    }

    private static String extension(String resource) {
        String file = resource.substring(resource.lastIndexOf('/') + 1);
        return file.equals("LICENSE") ? "txt" : file.substring(file.lastIndexOf('.') + 1);
    }

    private static byte[] read(String resource) {
        try (InputStream in = ConsoleFiles.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " from the admin jar", e);
        }
    }

    private void sendError(Response response, Callback callback, int status, String message) throws IOException {
        byte[] body = json.writeValueAsBytes(Map.of("error", message));
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** The uPlot WebJar's version, from its Maven metadata, so that an upgrade in the pom needs nothing here. */
    private static String uplotVersion() {
        Properties pom = new Properties();
        try (InputStream in = ConsoleFiles.class.getClassLoader().getResourceAsStream(UPLOT_POM)) {
            if (in == null) {
                throw new IllegalStateException("uPlot's WebJar is not on the classpath (" + UPLOT_POM + ")");
            }
            pom.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + UPLOT_POM, e);
        }
        return pom.getProperty("version");
    }
}
