package dev.tollgate.testing.receivers;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.testing.Poll;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real rsyslog receiver of a test's own: Debian's {@code rsyslogd} run in the foreground as a child process,
 * with a generated config in a directory of the test's, one input (TCP, plain or TLS through the gtls driver of
 * package rsyslog-gnutls, on a port rsyslog picks; or RELP through imrelp of package rsyslog-relp, on a free port
 * found for it), and every message it parses written to a file as one JSON object per line ({@link #messages()}),
 * the structured data parsed by rsyslog's own mmpstrucdata.
 *
 * <p>Where rsyslogd is not installed the test is skipped, saying why, unless {@value #REQUIRE_VARIABLE} is set
 * ({@code .ci/run} sets it, and installs the packages): then it fails, so that CI never skips it silently.
 */
public final class RsyslogServer implements AutoCloseable {

    public static final String REQUIRE_VARIABLE = "TOLLGATE_TEST_REQUIRE_RSYSLOG";
    private static final List<Path> RSYSLOGD = List.of(Path.of("/usr/sbin/rsyslogd"), Path.of("/sbin/rsyslogd"),
            Path.of("/usr/bin/rsyslogd"));
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What imrelp logs when it cannot bind its port (another process took the free port found for it). */
    private static final String RELP_BIND_FAILURE = "could not activate relp listener";
    private static final int RELP_PORT_ATTEMPTS = 5;

    /**
     * The receiver's TLS identity, for an input with the gtls driver (RFC 5425); clients are not asked for a
     * certificate ({@code authMode="anon"}).
     *
     * @param caFile   the CA certificate, PEM
     * @param certFile the server's certificate, PEM
     * @param keyFile  its private key, PEM (PKCS#8 or SEC 1)
     */
    public record Tls(Path caFile, Path certFile, Path keyFile) {
    }

    /**
     * One message as rsyslog parsed it (RFC 5424 fields by rsyslog's property names).
     *
     * @param structuredData the STRUCTURED-DATA as received, escapes included
     * @param sd             the same parsed by mmpstrucdata: SD-ID to its PARAM-NAMEs and unescaped values
     * @param msg            the MSG, as rsyslog keeps it (a UTF-8 BOM included)
     * @param raw            the whole message as received, without its octet-counting frame
     * @param msgJson        the MSG parsed as JSON by rsyslog's parse_json() after the BOM is taken off, as
     *                       docs/integrations.md tells operators to, written back as JSON; empty when MSG is not JSON
     */
    public record Message(int pri, String timestamp, String hostname, String appName, String procId, String msgId,
                          String structuredData, Map<String, Map<String, String>> sd, String msg, String raw,
                          String msgJson) {
    }

    private final Path dir;
    private final Path rsyslogd;
    private final Tls tls;
    private final boolean relp;
    private final Path messagesFile;
    private Process process;
    private int port;

    private RsyslogServer(Path dir, Path rsyslogd, Tls tls, boolean relp) {
        this.dir = dir;
        this.rsyslogd = rsyslogd;
        this.tls = tls;
        this.relp = relp;
        this.messagesFile = dir.resolve("messages.jsonl");
    }

    /** Starts rsyslogd with a plain TCP input (RFC 6587) in {@code dir}, a directory of the test's. */
    public static RsyslogServer plain(Path dir) throws Exception {
        return start(dir, null, false);
    }

    /** Starts rsyslogd with a TLS input (RFC 5425) presenting {@code tls}'s certificate. */
    public static RsyslogServer tls(Path dir, Tls tls) throws Exception {
        return start(dir, tls, false);
    }

    /**
     * Starts rsyslogd with a RELP input (imrelp, package rsyslog-relp), which answers each message once rsyslog has
     * taken it. imrelp has no port file (listenPortFileName is imtcp's), so the port is one found free by binding
     * port 0, and another is tried when imrelp could not bind it.
     */
    public static RsyslogServer relp(Path dir) throws Exception {
        return start(dir, null, true);
    }

    private static RsyslogServer start(Path dir, Tls tls, boolean relp) throws Exception {
        RsyslogServer server = new RsyslogServer(dir, installed(), tls, relp);
        Files.createDirectories(dir);
        try {
            if (relp) {
                server.launchOnAFreePort();
            } else {
                server.launch(0);
            }
        } catch (Exception | AssertionError e) {
            // Not returned, so no one else will stop it: a failed start must not leave rsyslogd running.
            server.stop();
            throw e;
        }
        return server;
    }

    /** The rsyslogd binary; skips the test, or fails it under {@value #REQUIRE_VARIABLE}, when there is none. */
    static Path installed() {
        Path found = RSYSLOGD.stream().filter(Files::isExecutable).findFirst().orElse(null);
        if (found == null && System.getenv(REQUIRE_VARIABLE) != null) {
            fail("rsyslogd is not installed but " + REQUIRE_VARIABLE + " is set: install Debian's rsyslog,"
                    + " rsyslog-gnutls and rsyslog-relp (.ci/run does)");
        }
        assumeTrue(found != null, "rsyslogd is not installed: skipping this rsyslog test (apt-get install rsyslog"
                + " rsyslog-gnutls rsyslog-relp; set " + REQUIRE_VARIABLE + " to fail instead, as .ci/run does)");
        return found;
    }

    /** The TCP port the input listens on (chosen on the first start). */
    public int port() {
        return port;
    }

    /** The config file rsyslogd runs with, for a test's failure output or the documentation. */
    public Path configFile() {
        return dir.resolve("rsyslog.conf");
    }

    /** Whether rsyslogd is running. */
    public boolean running() {
        return process != null && process.isAlive();
    }

    /** Stops rsyslogd (SIGTERM, then SIGKILL after the deadline); its port is free afterwards. */
    public void stop() throws Exception {
        if (process == null) {
            return;
        }
        process.destroy();
        if (!process.waitFor(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(Poll.DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        process = null;
    }

    /** Starts rsyslogd again after {@link #stop()}, on the same port, keeping the messages received so far. */
    public void restart() throws Exception {
        if (running()) {
            throw new IllegalStateException("rsyslogd is still running");
        }
        try {
            launch(port);
        } catch (Exception | AssertionError e) {
            stop();
            throw e;
        }
    }

    /** Every message received so far, in the order rsyslog wrote them. */
    public List<Message> messages() throws IOException {
        if (!Files.exists(messagesFile)) {
            return List.of();
        }
        List<Message> messages = new ArrayList<>();
        for (String line : Files.readAllLines(messagesFile, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                messages.add(parse(line));
            }
        }
        return messages;
    }

    /** Polls until at least {@code count} messages have arrived; returns all of them. */
    public List<Message> awaitMessages(int count) throws Exception {
        return Poll.forMatch(count + " messages in " + messagesFile, this::messages, m -> m.size() >= count);
    }

    /** rsyslogd's own output (errors of its config, TLS handshakes it refused). */
    public String log() throws IOException {
        Path log = dir.resolve("rsyslogd.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        stop();
    }

    /** RELP: a port found free, then another when imrelp could not bind it (taken in between by someone else). */
    private void launchOnAFreePort() throws Exception {
        for (int attempt = 1; ; attempt++) {
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            int logBefore = logQuietly().length();
            try {
                launch(port);
                return;
            } catch (AssertionError e) {
                if (attempt == RELP_PORT_ATTEMPTS || !logQuietly().substring(logBefore)
                        .contains(RELP_BIND_FAILURE)) {
                    throw e;
                }
                stop();
            }
        }
    }

    private void launch(int wantedPort) throws Exception {
        Path portFile = dir.resolve("port");
        int logBefore = logQuietly().length();
        Files.deleteIfExists(portFile);
        Files.writeString(configFile(), config(wantedPort, portFile));
        process = new ProcessBuilder(rsyslogd.toString(), "-n", "-f", configFile().toString(), "-i",
                dir.resolve("rsyslogd.pid").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("rsyslogd.log").toFile()))
                .start();
        Poll.until(() -> "rsyslogd listening (" + configFile() + "); its output: " + logQuietly(),
                Poll.DEADLINE, () -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("rsyslogd exited with " + process.exitValue() + ": "
                                + logQuietly());
                    }
                    return listening(portFile, wantedPort, logBefore);
                });
    }

    /**
     * Whether the input accepts connections. The port file names the port rsyslog bound, but it is written before
     * the TLS driver loads its certificate, and the listener is dropped when that fails (rsyslogd then runs on,
     * saying "Could not create tcp listener"): so the port is also connected to, and that message fails the start.
     */
    private boolean listening(Path portFile, int wantedPort, int logBefore) throws IOException {
        String log = logQuietly();
        String thisRun = log.length() >= logBefore ? log.substring(logBefore) : log;
        if (thisRun.contains("Could not create tcp listener") || thisRun.contains(RELP_BIND_FAILURE)) {
            throw new AssertionError("rsyslogd could not listen (" + configFile() + "): " + log);
        }
        if (wantedPort == 0) {
            String text = Files.exists(portFile) ? Files.readString(portFile).trim() : "";
            if (text.isEmpty()) {
                return false;
            }
            port = Integer.parseInt(text);
        }
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    /**
     * The config: a TCP or RELP input on 127.0.0.1 only, control characters kept as they came (rsyslog's default would
     * write a line break as "#012"), messages up to 64 KiB (default 8 KiB), each written as one JSON line. MSG is also
     * parsed as JSON the way docs/integrations.md shows (the BOM taken off first), so that tests check that advice.
     */
    private String config(int wantedPort, Path portFile) {
        String input = relp
                ? "module(load=\"imrelp\")\ninput(type=\"imrelp\" address=\"127.0.0.1\" port=\"" + wantedPort
                        + "\" ruleset=\"received\")"
                : tcpInput(wantedPort, portFile);
        return CONFIG.formatted(dir, certificates(), input, messagesFile);
    }

    private String tcpInput(int wantedPort, Path portFile) {
        String driver = tls == null ? "" : "\n    streamDriver.name=\"gtls\" streamDriver.mode=\"1\""
                + " streamDriver.authMode=\"anon\"";
        return "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + wantedPort
                + "\" listenPortFileName=\"" + portFile + "\" ruleset=\"received\"" + driver + ")";
    }

    private String certificates() {
        return tls == null ? "" : "\n       defaultNetstreamDriverCAFile=\"" + tls.caFile() + "\""
                + "\n       defaultNetstreamDriverCertFile=\"" + tls.certFile() + "\""
                + "\n       defaultNetstreamDriverKeyFile=\"" + tls.keyFile() + "\"";
    }

    /** The config around its input: the global settings, the input (its module loaded), the output of each message. */
    private static final String CONFIG = """
                global(workDirectory="%s"
                       maxMessageSize="64k"
                       parser.escapeControlCharactersOnReceive="off"%s)
                module(load="mmpstrucdata")
                %s
                template(name="parts" type="list" option.jsonf="on") {
                    property(outname="pri" name="pri" format="jsonf")
                    property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
                    property(outname="hostname" name="hostname" format="jsonf")
                    property(outname="appname" name="app-name" format="jsonf")
                    property(outname="procid" name="procid" format="jsonf")
                    property(outname="msgid" name="msgid" format="jsonf")
                    property(outname="structured_data" name="structured-data" format="jsonf")
                    property(outname="sd" name="$!rfc5424-sd" format="jsonf")
                    property(outname="msg" name="msg" format="jsonf")
                    property(outname="raw" name="rawmsg" format="jsonf")
                    property(outname="msg_json" name="$!msg_json" format="jsonf")
                }
                ruleset(name="received") {
                    action(type="mmpstrucdata" sd_name.lowercase="off")
                    set $.json = $msg;
                    if re_match($msg, "^\\xEF\\xBB\\xBF") then { set $.json = substring($msg, 3, 1000000); }
                    set $.parsed = parse_json($.json, "\\$!msg_json");
                    action(type="omfile" file="%s" template="parts")
                }
                """;

    private static Message parse(String line) throws IOException {
        JsonNode node = JSON.readTree(line);
        String sd = node.path("sd").asText("");
        Map<String, Map<String, String>> parsed = sd.isEmpty() ? Map.of()
                : JSON.readValue(sd, new TypeReference<Map<String, Map<String, String>>>() { });
        return new Message(Integer.parseInt(node.path("pri").asText()), node.path("timestamp").asText(),
                node.path("hostname").asText(), node.path("appname").asText(), node.path("procid").asText(),
                node.path("msgid").asText(), node.path("structured_data").asText(), parsed,
                node.path("msg").asText(), node.path("raw").asText(), node.path("msg_json").asText());
    }

    private String logQuietly() {
        try {
            return log();
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
