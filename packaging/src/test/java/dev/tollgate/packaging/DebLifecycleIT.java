package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;

/**
 * The .deb on this machine for real, as an operator would use it: dpkg -i, the service's ExecStart run as the
 * tollgate user (PID 1 is not systemd here, so the unit's user, environment file, umask and working directory
 * are applied by hand), traffic through it, an upgrade over a locally edited conffile, dpkg -r, dpkg -P.
 *
 * <p>It needs root and dpkg, and a machine without Tollgate: it skips, saying why, otherwise. Whatever it
 * changed is undone in {@link #undoEverything()}, also when a step fails. All traffic stays on 127.0.0.1, on
 * ports chosen free at run time.
 */
class DebLifecycleIT {

    private static final Path CONFIG = Path.of("/etc/tollgate/tollgate.json");
    private static final Path STATE = Path.of("/var/lib/tollgate");
    private static final Path UNIT = Path.of("/lib/systemd/system/tollgate.service");
    private static final Path JVM_PERF_DATA = Path.of("/tmp/hsperfdata_tollgate");
    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration STOP_DEADLINE = Duration.ofSeconds(60);
    private static final Duration ROWS_DEADLINE = Duration.ofSeconds(30);
    private static final Duration LOCK_DEADLINE = Duration.ofSeconds(180);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private boolean machineChanged;
    private Process daemon;
    private Path daemonLog;
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void requireAMachineWithoutTollgate() {
        assumeTrue(Command.isRoot(), "SKIPPED: installing the .deb needs root (CI runs as root)");
        assumeTrue(Command.available("dpkg") && Command.available("dpkg-deb"),
                "SKIPPED: dpkg is not installed: this test needs Debian's dpkg");
        assumeTrue(Command.available("runuser"), "SKIPPED: runuser (util-linux) is not installed");
        assumeTrue(Command.available("curl"), "SKIPPED: curl is not installed");
        assumeTrue(Command.run("dpkg-query", "-W", "tollgate").exitCode() != 0,
                "SKIPPED: a tollgate package is installed here; this test would purge it");
        assumeTrue(Command.run("getent", "passwd", "tollgate").exitCode() != 0
                        && Command.run("getent", "group", "tollgate").exitCode() != 0,
                "SKIPPED: a tollgate user or group exists here; this test would delete it");
        assumeTrue(!Files.exists(STATE) && !Files.exists(CONFIG.getParent()) && !Files.exists(JVM_PERF_DATA),
                "SKIPPED: /var/lib/tollgate or /etc/tollgate exists here; this test would delete it");
    }

    @AfterEach
    void undoEverything() {
        if (!machineChanged) {
            return;
        }
        List<String> problems = new ArrayList<>();
        stopDaemon();
        if (Command.run("dpkg-query", "-W", "tollgate").exitCode() == 0) {
            try {
                dpkg("--purge", "tollgate");
            } catch (AssertionError e) {
                problems.add(e.getMessage());
            }
        }
        if (Command.run("getent", "passwd", "tollgate").exitCode() == 0) {
            Command.run("userdel", "tollgate");
        }
        if (Command.run("getent", "group", "tollgate").exitCode() == 0) {
            Command.run("groupdel", "tollgate");
        }
        Command.run("rm", "-rf", STATE.toString(), CONFIG.getParent().toString(), "/etc/default/tollgate",
                "/var/log/tollgate", JVM_PERF_DATA.toString());
        if (!problems.isEmpty()) {
            fail("cleaning up: " + problems);
        }
    }

    @Test
    void installRunUpgradeRemoveAndPurge() throws Exception {
        Set<String> before = machineListing();
        machineChanged = true;

        // ---- install
        dpkg("-i", Packages.DEB.toString());
        assertInstalledAsTheLayoutSays();
        verifyUnitIfSystemdAnalyzeIsHere();

        // ---- run it as the unit would, with the test's local edits to the conffile
        String edited;
        try (LocalOrigins origins = new LocalOrigins(tmp)) {
            Ports ports = Ports.free();
            edited = editConfig(ports, origins.tlsPort());
            startAsTheUnitWould(ports);

            assertEquals(LocalOrigins.PLAIN_BODY, curl(ports, "http://127.0.0.1:" + origins.plainPort() + "/plain"));
            assertEquals(LocalOrigins.TLS_BODY, curl(ports, "-k", "https://127.0.0.1:" + origins.tlsPort() + "/tls"));
            List<JsonNode> rows = awaitRows(ports, origins);
            assertSqlCountsAtLeast(rows.size());
            assertGroupTollgateMayAuditAndOthersMayNot(rows.size());
            stopDaemon();

            // ---- upgrade to a higher version while tollgate.json carries the local edits
            String auditorToken = Files.readString(STATE.resolve("auditor.token"));
            Path operatorNote = Files.writeString(STATE.resolve("operator-note"), "made by root, must stay so\n");
            Files.setPosixFilePermissions(operatorNote, PosixFilePermissions.fromString("rw-------"));
            String newer = Packages.PKG_VERSION + "+upgrade1";
            Path upgrade = debWithVersion(newer);
            Command.ok("dpkg", "--compare-versions", newer, "gt", Packages.PKG_VERSION);

            dpkg("-i", upgrade.toString());

            assertEquals(newer, Command.ok("dpkg-query", "-W", "-f", "${Version}", "tollgate"));
            assertEquals(edited, Files.readString(CONFIG), "the local edits of tollgate.json were lost");
            try (Stream<Path> leftovers = Files.list(CONFIG.getParent())) {
                assertEquals(List.of(), leftovers.filter(path -> path.toString().contains(".dpkg-")).toList());
            }
            assertOwner(operatorNote, "root", "root", "rw-------"); // no recursive chown
            assertOwner(STATE, "tollgate", "tollgate", "rwxr-x---");
            assertEquals(auditorToken, Files.readString(STATE.resolve("auditor.token")));

            startAsTheUnitWould(ports);
            List<Long> idsBefore = rows.stream().map(row -> row.get("id").asLong()).toList();
            List<Long> idsAfter = accessLog(ports).stream().map(row -> row.get("id").asLong()).toList();
            assertTrue(idsAfter.containsAll(idsBefore), () -> "rows lost in the upgrade: " + idsBefore + " -> " + idsAfter);
            stopDaemon();
        }

        // ---- dpkg -r: the program goes; config, state, user and group stay
        dpkg("-r", "tollgate");
        assertFalse(Files.exists(Path.of("/usr/bin/tollgate")), "/usr/bin/tollgate left after dpkg -r");
        assertFalse(Files.exists(Path.of("/usr/share/tollgate")), "/usr/share/tollgate left after dpkg -r");
        assertFalse(Files.exists(UNIT), "the unit left after dpkg -r");
        assertEquals("deinstall ok config-files", Command.ok("dpkg-query", "-W", "-f", "${Status}", "tollgate"));
        assertEquals(edited, Files.readString(CONFIG));
        assertTrue(Files.exists(Path.of("/etc/default/tollgate")));
        assertTrue(Files.exists(STATE.resolve("access.mv.db")), "the database went with dpkg -r");
        assertEquals(0, Command.run("getent", "passwd", "tollgate").exitCode(), "user removed by dpkg -r");

        // ---- dpkg -P: nothing left, not even the user
        dpkg("-P", "tollgate");
        assertEquals(2, Command.run("getent", "passwd", "tollgate").exitCode(), "user left after dpkg -P");
        assertEquals(2, Command.run("getent", "group", "tollgate").exitCode(), "group left after dpkg -P");
        assertEquals(1, Command.run("dpkg-query", "-W", "tollgate").exitCode(), "dpkg still knows tollgate");
        Command.run("rm", "-rf", JVM_PERF_DATA.toString()); // the JVM's, under /tmp: not the package's to remove
        Set<String> after = machineListing();
        assertEquals(Set.of(), difference(after, before), "files left after dpkg -P");
        assertEquals(Set.of(), difference(before, after), "files gone after dpkg -P that were there before");
    }

    // ---- steps ------------------------------------------------------------------------------------------

    /** dpkg, waiting (with a deadline) while another process, e.g. an apt-get elsewhere, holds dpkg's lock. */
    private static void dpkg(String... args) {
        List<String> argv = new ArrayList<>(List.of("dpkg"));
        argv.addAll(List.of(args));
        Instant end = Instant.now().plus(LOCK_DEADLINE);
        Command result = Command.run(Map.of(), argv);
        while (result.exitCode() != 0 && result.stderr().contains("lock") && Instant.now().isBefore(end)) {
            pause();
            result = Command.run(Map.of(), argv);
        }
        result.assertOk();
    }

    private static void assertInstalledAsTheLayoutSays() throws IOException {
        for (String file : Packages.expectedFiles().keySet()) {
            assertTrue(Files.isRegularFile(Path.of(file)), () -> file + " not installed");
        }
        assertOwner(Path.of("/usr/bin/tollgate"), "root", "root", "rwxr-xr-x");
        assertOwner(CONFIG, "root", "root", "rw-r--r--");
        assertOwner(STATE, "tollgate", "tollgate", "rwxr-x---");
        String[] user = Command.ok("getent", "passwd", "tollgate").trim().split(":");
        assertTrue(Integer.parseInt(user[2]) < 1000, () -> "not a system user: " + String.join(":", user));
        assertEquals("/nonexistent", user[5]);
        assertFalse(Files.exists(Path.of(user[5])), "the user got a home");
        assertEquals("/usr/sbin/nologin", user[6]);
        String group = Command.ok("getent", "group", "tollgate").trim();
        assertEquals(user[3], group.split(":")[2], "the user's primary group is not tollgate");
        String status = Command.ok("dpkg-query", "-W", "-f", "${Status} ${Conffiles}", "tollgate");
        assertTrue(status.startsWith("install ok installed"), status);
        for (String conffile : Packages.CONFFILES) {
            assertTrue(status.contains(conffile + " "), () -> conffile + " not a conffile: " + status);
        }
    }

    private static void verifyUnitIfSystemdAnalyzeIsHere() {
        if (!Command.available("systemd-analyze")) {
            System.out.println("systemd-analyze is not installed: unit not verified");
            return;
        }
        Command verify = Command.run("systemd-analyze", "verify", UNIT.toString());
        assertEquals(0, verify.exitCode(), verify::toString);
        assertFalse((verify.stdout() + verify.stderr()).contains("tollgate.service"), verify::toString);
    }

    /** The test's local edits: everything on 127.0.0.1, free ports, loopback origins allowed. */
    private static String editConfig(Ports ports, int tlsOriginPort) throws IOException {
        String text = Files.readString(CONFIG);
        text = replaceOnce(text, "\"host\": \"0\\.0\\.0\\.0\"", "\"host\": \"127.0.0.1\"");
        text = replaceOnce(text, "\"port\": 3128", "\"port\": " + ports.listener());
        text = replaceOnce(text, "\"port\": 9090", "\"port\": " + ports.admin());
        text = replaceOnce(text, "\"sqlPort\": 9092", "\"sqlPort\": " + ports.sql());
        text = replaceOnce(text, "\"connectPorts\": \\[443\\]", "\"connectPorts\": [" + tlsOriginPort + "]");
        text = replaceOnce(text, "\"denyDestinations\": [^\\n]*", "\"denyDestinations\": [],");
        text = replaceOnce(text, "\"allowLocalHost\": false", "\"allowLocalHost\": true");
        Files.writeString(CONFIG, text);

        TollgateConfig config = ConfigLoader.load(CONFIG);
        assertEquals(ports.listener(), config.listeners().get(0).port());
        assertEquals(List.of(), config.listeners().get(0).denyDestinations());
        assertEquals(ports.admin(), config.admin().port());
        return text;
    }

    /** ExecStart as the tollgate user, with the unit's EnvironmentFile, UMask and working directory (/). */
    private void startAsTheUnitWould(Ports ports) throws Exception {
        Map<String, List<String>> unit = PackageContentsIT.unitSettings(UNIT);
        List<String> argv = new ArrayList<>(List.of("runuser", "-u", unit.get("User").get(0), "--",
                "sh", "-c", "umask " + unit.get("UMask").get(0) + " && exec \"$@\"", "tollgate.service", "env"));
        for (String environmentFile : unit.get("EnvironmentFile")) {
            environment(Path.of(environmentFile.replaceFirst("^-", ""))).forEach((key, value) -> argv.add(key + "=" + value));
        }
        argv.addAll(List.of(unit.get("ExecStart").get(0).split(" ")));
        Path log = tmp.resolve("daemon-" + Instant.now().toEpochMilli() + ".log");
        daemonLog = log;
        daemon = new ProcessBuilder(argv).directory(new File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();

        URI health = URI.create("http://127.0.0.1:" + ports.admin() + "/api/v1/health");
        awaitTrue(START_DEADLINE, () -> {
            if (!daemon.isAlive()) {
                fail("the daemon exited " + daemon.exitValue() + ":\n" + read(log));
            }
            // the admin API opens before the proxy listeners: ready when both accept
            return status(health) == 200 && accepts(ports.listener());
        }, () -> "the daemon's admin API or listener did not answer:\n" + read(log));
    }

    private void stopDaemon() {
        if (daemon == null || !daemon.isAlive()) {
            return;
        }
        // SIGTERM to the JVM itself, as systemd's stop would: runuser would pass it on but follow it with a
        // SIGKILL two seconds later, which could cut a drain short.
        daemon.toHandle().descendants()
                .filter(process -> process.info().command().map(command -> command.endsWith("/java")).orElse(false))
                .forEach(ProcessHandle::destroy);
        try {
            if (!daemon.waitFor(STOP_DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
                daemon.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                daemon.destroyForcibly();
                fail("the daemon did not stop within " + STOP_DEADLINE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        int exit = daemon.exitValue();
        assertTrue(exit == 0 || exit == 143, () -> "the daemon exited " + exit + " (the unit accepts 0 and 143)");
    }

    private String curl(Ports ports, String... urlAndOptions) {
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--noproxy", "",
                "-x", "http://127.0.0.1:" + ports.listener()));
        argv.addAll(List.of(urlAndOptions));
        Command curl = Command.run(Map.of(), argv);
        assertEquals(0, curl.exitCode(), () -> curl + "\n--- daemon\n" + read(daemonLog));
        return curl.stdout();
    }

    /** Polls the admin API until both requests are rows: a FORWARD to the plain origin, a TUNNEL to the TLS one. */
    private List<JsonNode> awaitRows(Ports ports, LocalOrigins origins) throws Exception {
        List<List<JsonNode>> seen = new ArrayList<>(List.of(List.of()));
        awaitTrue(ROWS_DEADLINE, () -> {
            List<JsonNode> rows = accessLog(ports);
            seen.set(0, rows);
            return hasRow(rows, "FORWARD", origins.plainPort()) && hasRow(rows, "TUNNEL", origins.tlsPort());
        }, () -> "access-log rows missing: " + seen.get(0));
        return seen.get(0);
    }

    private static boolean hasRow(List<JsonNode> rows, String kind, int port) {
        return rows.stream().anyMatch(row -> kind.equals(row.get("kind").asText()) && row.get("port").asInt() == port
                && row.get("status").asInt() == 200 && "OK".equals(row.get("outcome").asText())
                && "127.0.0.1".equals(row.get("host").asText()) && "default".equals(row.get("listener").asText()));
    }

    private List<JsonNode> accessLog(Ports ports) {
        try {
            String token = Files.readString(STATE.resolve("auditor.token")).trim();
            HttpRequest request = HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + ports.admin() + "/api/v1/access-log?limit=1000"))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response::body);
            List<JsonNode> rows = new ArrayList<>();
            JSON.readTree(response.body()).get("records").forEach(rows::add);
            return rows;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The README's way for an auditor: tollgate sql, here as the tollgate user, against the running daemon. */
    private static void assertSqlCountsAtLeast(int rows) {
        Command sql = Command.run(Map.of(), List.of("runuser", "-u", "tollgate", "--", "/usr/bin/tollgate", "sql",
                "--config", CONFIG.toString(), "--format", "csv", "-c", "SELECT COUNT(*) AS n FROM access_log"));
        sql.assertOk();
        assertTrue(lastNumber(sql.stdout()) >= rows, sql::toString);
    }

    /**
     * The README's promise for /var/lib/tollgate (0750) and its secrets: a member of group tollgate reads the
     * auditor token (0640) and runs tollgate sql, but not the admin token (0600); any other user reads nothing. "nobody" stands in for
     * both, with and without tollgate as its group, so no user is made. -XX:-UsePerfData: no
     * /tmp/hsperfdata_nobody left behind.
     */
    private static void assertGroupTollgateMayAuditAndOthersMayNot(int rows) {
        List<String> asMember = List.of("runuser", "-u", "nobody", "-g", "tollgate", "--");
        Command token = Command.run(Map.of(), concat(asMember, "cat", STATE.resolve("auditor.token").toString()));
        assertEquals(0, token.exitCode(), token::toString);
        Command sql = Command.run(Map.of(), concat(asMember, "sh", "-c", "cd / && exec \"$@\"", "sh",
                "env", "JAVA_OPTS=-XX:-UsePerfData", "/usr/bin/tollgate", "sql", "--config", CONFIG.toString(),
                "--format", "csv", "-c", "SELECT COUNT(*) AS n FROM access_log"));
        assertEquals(0, sql.exitCode(), sql::toString);
        assertTrue(lastNumber(sql.stdout()) >= rows, sql::toString);
        for (String ownerOnly : List.of("admin.token", "owner.password")) {
            Command member = Command.run(Map.of(), concat(asMember, "cat", STATE.resolve(ownerOnly).toString()));
            assertTrue(member.exitCode() != 0, () -> "a member of group tollgate read " + ownerOnly + ": " + member);
        }
        try {
            // Every secret with its mode after the first start (issue #19): the owner's alone, or the auditors'.
            assertOwner(STATE.resolve("owner.password"), "tollgate", "tollgate", "rw-------");
            assertOwner(STATE.resolve("admin.token"), "tollgate", "tollgate", "rw-------");
            assertOwner(STATE.resolve("auditor.token"), "tollgate", "tollgate", "rw-r-----");
            assertOwner(STATE.resolve("sql.password"), "tollgate", "tollgate", "rw-r-----");
            assertOwner(STATE.resolve("access.mv.db"), "tollgate", "tollgate", "rw-r-----");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        for (String secret : List.of("auditor.token", "admin.token", "sql.password", "owner.password",
                "access.mv.db")) {
            Command outsider = Command.run("runuser", "-u", "nobody", "--", "cat", STATE.resolve(secret).toString());
            assertTrue(outsider.exitCode() != 0, () -> "nobody read " + secret + ": " + outsider);
        }
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    private static long lastNumber(String csv) {
        String[] lines = csv.trim().split("\\R");
        return Long.parseLong(lines[lines.length - 1].trim().replace("\"", ""));
    }

    /** A second build of the package with a higher version: the same files, repacked with dpkg-deb. */
    private Path debWithVersion(String version) throws IOException {
        Path tree = tmp.resolve("upgrade-tree");
        Command.ok("dpkg-deb", "-R", Packages.DEB.toString(), tree.toString());
        Path control = tree.resolve("DEBIAN/control");
        Files.writeString(control, Files.readString(control).replaceFirst("(?m)^Version: .*$", "Version: " + version));
        Path deb = tmp.resolve("tollgate_" + version + "_all.deb");
        Command.ok("dpkg-deb", "--root-owner-group", "-b", tree.toString(), deb.toString());
        return deb;
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    /**
     * Every path the package could leave behind: anything under /etc, /usr and /var named after tollgate, and
     * all of /etc/systemd/system (enablement links). Not a listing of whole trees: other work on a shared
     * machine (an apt-get install next door) would show up in it.
     */
    private static Set<String> machineListing() throws IOException {
        Set<String> paths = new TreeSet<>();
        for (String root : List.of("/etc", "/usr", "/var")) {
            Files.walkFileTree(Path.of(root), new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult preVisitDirectory(Path dir,
                        java.nio.file.attribute.BasicFileAttributes attributes) {
                    if (dir.startsWith("/var/tmp") || dir.startsWith("/var/cache")) {
                        return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                    }
                    add(dir);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFile(Path file,
                        java.nio.file.attribute.BasicFileAttributes attributes) {
                    add(file);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                    // vanished while we looked (someone else's temporary file): not ours
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                private void add(Path path) {
                    String name = path.toString();
                    if (name.toLowerCase(java.util.Locale.ROOT).contains("tollgate")
                            || name.startsWith("/etc/systemd/system")) {
                        paths.add(name);
                    }
                }
            });
        }
        return paths;
    }

    private static Set<String> difference(Set<String> a, Set<String> b) {
        Set<String> result = new TreeSet<>(a);
        result.removeAll(b);
        return result;
    }

    private static void assertOwner(Path path, String owner, String group, String perms) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertEquals(owner, attributes.owner().getName(), () -> path + " owner");
        assertEquals(group, attributes.group().getName(), () -> path + " group");
        assertEquals(perms, PosixFilePermissions.toString(attributes.permissions()), () -> path + " mode");
    }

    /** KEY=value lines of a systemd EnvironmentFile; a value may be in double quotes. */
    private static Map<String, String> environment(Path file) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        Pattern assignment = Pattern.compile("^([A-Za-z_][A-Za-z0-9_]*)=\"?(.*?)\"?$");
        for (String line : Files.readAllLines(file)) {
            Matcher matcher = assignment.matcher(line.trim());
            if (!line.trim().startsWith("#") && matcher.matches()) {
                env.put(matcher.group(1), matcher.group(2));
            }
        }
        return env;
    }

    /** Replaces the one setting (at the start of a line, not in a comment) that {@code setting} matches. */
    private static String replaceOnce(String text, String setting, String replacement) {
        String regex = "(?m)(?<=^\\s{0,40})" + setting;
        Matcher matcher = Pattern.compile(regex).matcher(text);
        assertTrue(matcher.find(), () -> "no " + regex + " in the installed tollgate.json");
        int start = matcher.start();
        assertFalse(matcher.find(), () -> regex + " more than once in the installed tollgate.json");
        return text.substring(0, start) + text.substring(start).replaceFirst(regex, Matcher.quoteReplacement(replacement));
    }

    private static boolean accepts(int port) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private int status(URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void awaitTrue(Duration deadline, Supplier<Boolean> condition, Supplier<String> message) {
        Instant end = Instant.now().plus(deadline);
        while (!condition.get()) {
            if (Instant.now().isAfter(end)) {
                fail(message.get());
            }
            pause();
        }
    }

    /** The interval between two polls; never a wait for a result. */
    private static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** Three ports free on 127.0.0.1 when asked: listener, admin API, SQL server. Never 3128, 9090, 9092. */
    private record Ports(int listener, int admin, int sql) {
        static Ports free() throws IOException {
            try (ServerSocket a = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                 ServerSocket b = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                 ServerSocket c = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                return new Ports(a.getLocalPort(), b.getLocalPort(), c.getLocalPort());
            }
        }
    }
}
