package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.config.TollgateConfig;

/**
 * The .deb and the .rpm as built: what they hold, with which modes, owners, conffiles and dependencies, and
 * that the .rpm lays out the same files as the .deb. Each test needs Debian's dpkg-deb, rpm or lintian and
 * is skipped, saying which, where that tool is missing (.ci/run installs them).
 */
class PackageContentsIT {

    private static final Pattern LINTIAN_TAG = Pattern.compile("^([EWIPX]): tollgate[^:]*: ([a-z0-9-]+)");

    @TempDir
    Path tmp;

    @Test
    void debHoldsExactlyTheLayoutRootOwned() throws IOException {
        requireTool("dpkg-deb");
        Map<String, Packages.Entry> entries = Packages.debEntries();

        assertEquals(Packages.expectedFiles(), Packages.filesOnly(entries));
        Packages.assertAllRootOwned(entries, "deb");
        entries.forEach((path, entry) -> {
            if (entry.perms().startsWith("d")) {
                assertEquals("drwxr-xr-x", entry.perms(), () -> "directory " + path);
            }
        });
        for (String dir : Packages.ownDirectories()) {
            assertTrue(entries.containsKey(dir), () -> "deb lacks directory " + dir);
        }
        // Made by postinst, not shipped: no package owns the state, so removing one never touches it.
        assertTrue(entries.keySet().stream().noneMatch(path -> path.startsWith("/var/")), () -> "ships /var: " + entries);
    }

    @Test
    void debDeclaresItsDependenciesAndConffiles() {
        requireTool("dpkg-deb");

        assertEquals(Packages.DEPENDS, Command.ok("dpkg-deb", "-f", Packages.DEB.toString(), "Depends").trim());
        assertEquals("all", Command.ok("dpkg-deb", "-f", Packages.DEB.toString(), "Architecture").trim());
        assertEquals(Packages.PKG_VERSION, Command.ok("dpkg-deb", "-f", Packages.DEB.toString(), "Version").trim());
        List<String> conffiles = Arrays.asList(Command.ok("dpkg-deb", "-I", Packages.DEB.toString(), "conffiles")
                .trim().split("\n"));
        assertEquals(sorted(Packages.CONFFILES), sorted(conffiles));
        String scripts = Command.ok("dpkg-deb", "-I", Packages.DEB.toString());
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertTrue(scripts.contains(script), () -> "no " + script + " in\n" + scripts);
        }
    }

    @Test
    void rpmHoldsTheSameFilesAsTheDebWithItsOwnConfigFiles() throws IOException {
        requireTool("rpm");
        Map<String, Packages.Entry> entries = Packages.rpmEntries();

        assertEquals(Packages.expectedFiles(), Packages.filesOnly(entries));
        Packages.assertAllRootOwned(entries, "rpm");
        for (String dir : Packages.ownDirectories()) {
            assertEquals("drwxr-xr-x", entries.get(dir) == null ? null : entries.get(dir).perms(), "rpm directory " + dir);
        }
        // Only Tollgate's own directories: never /etc/sysconfig or /usr/lib/systemd/system themselves.
        assertEquals(sorted(Packages.ownDirectories()), entries.entrySet().stream()
                .filter(entry -> entry.getValue().perms().startsWith("d")).map(Map.Entry::getKey).sorted().toList());

        // %config(noreplace): an upgrade keeps an edited file and puts the new one beside it as .rpmnew.
        String flags = Command.ok("rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags}\\t%{FILENAMES}\\n]", Packages.RPM.toString());
        List<String> noreplace = flags.lines().filter(line -> line.startsWith("cn\t"))
                .map(line -> Packages.debPathOf(line.substring(3))).sorted().toList();
        assertEquals(sorted(Packages.CONFFILES), noreplace);

        String requires = Command.ok("rpm", "-qp", "--requires", Packages.RPM.toString());
        assertTrue(requires.contains("java-headless >= 1:17"), requires);
        String version = Command.ok("rpm", "-qp", "--qf", "%{VERSION}-%{RELEASE}.%{ARCH}", Packages.RPM.toString());
        assertEquals(Packages.PKG_VERSION + "-1.noarch", version);
        String scripts = Command.ok("rpm", "-qp", "--scripts", Packages.RPM.toString());
        for (String scriptlet : List.of("postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet")) {
            assertTrue(scripts.contains(scriptlet), () -> "no " + scriptlet + " in\n" + scripts);
        }
    }

    @Test
    void rpmInstalledIntoAScratchRootListsTheSameFiles() throws IOException {
        requireTool("rpm");
        requireRoot();
        Path root = Files.createDirectory(tmp.resolve("root"));

        // an explicit database path inside the root: Debian's rpm otherwise keeps it in ~/.rpmdb
        Command.run("rpm", "--root", root.toString(), "--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts",
                Packages.RPM.toString()).assertOk();

        Map<String, String> installed = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            paths.filter(Files::isRegularFile)
                    .map(path -> "/" + root.relativize(path))
                    .filter(path -> !path.startsWith("/var/lib/rpm/"))
                    .forEach(path -> installed.put(Packages.debPathOf(path), mode(root.resolve(path.substring(1)))));
        }
        assertEquals(Packages.expectedFiles(), installed);
        assertEquals(Packages.expectedFiles().keySet(), Packages.filesOnly(Packages.debEntries()).keySet(),
                "the deb's files");
    }

    @Test
    void packagedConfigListensOnEveryInterfaceWithTheDefaultPolicy() {
        // the file both packages ship, parsed by the daemon's own loader
        TollgateConfig config = ConfigLoader.load(Packages.DIST.resolveSibling("pkg/etc/tollgate.json"));

        assertEquals("/var/lib/tollgate", config.stateDir());
        assertEquals(1, config.listeners().size());
        ListenerConfig listener = config.listeners().get(0);
        assertEquals("0.0.0.0", listener.host());
        assertEquals(3128, listener.port());
        assertEquals(ListenerConfig.DEFAULT_ALLOW_CLIENTS, listener.allowClients());
        assertEquals(ListenerConfig.DEFAULT_DENY_DESTINATIONS, listener.denyDestinations());
        assertEquals(ListenerConfig.DEFAULT_CONNECT_PORTS, listener.connectPorts());
        assertEquals("127.0.0.1", config.admin().host());
        assertEquals(9090, config.admin().port());
    }

    @Test
    void unitRunsTheDaemonAsItsUserWithTheRequiredHardening() throws IOException {
        Path pkg = Packages.DIST.resolveSibling("pkg");
        Map<String, List<String>> deb = unitSettings(pkg.resolve("deb/tollgate.service"));
        Map<String, List<String>> rpm = unitSettings(pkg.resolve("rpm/tollgate.service"));

        assertEquals(List.of("/usr/bin/tollgate run --config /etc/tollgate/tollgate.json"), deb.get("ExecStart"));
        assertEquals(List.of("/bin/kill -HUP $MAINPID"), deb.get("ExecReload"), "systemctl reload sends SIGHUP");
        assertEquals(List.of("-/etc/default/tollgate"), deb.get("EnvironmentFile"));
        assertEquals(List.of("-/etc/sysconfig/tollgate"), rpm.get("EnvironmentFile"));
        rpm.remove("EnvironmentFile");
        deb.remove("EnvironmentFile");
        assertEquals(deb, rpm, "the two units differ in more than their EnvironmentFile");

        Map<String, String> required = new TreeMap<>(Map.ofEntries(
                Map.entry("User", "tollgate"), Map.entry("Restart", "on-failure"),
                Map.entry("SuccessExitStatus", "143"), Map.entry("LimitNOFILE", "65535"),
                Map.entry("NoNewPrivileges", "yes"), Map.entry("ProtectSystem", "strict"),
                Map.entry("ReadWritePaths", "/var/lib/tollgate -/var/log/tollgate"),
                Map.entry("ProtectHome", "yes"), Map.entry("PrivateTmp", "yes"), Map.entry("PrivateDevices", "yes"),
                Map.entry("ProtectKernelTunables", "yes"), Map.entry("ProtectKernelModules", "yes"),
                Map.entry("ProtectControlGroups", "yes"),
                Map.entry("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                Map.entry("RestrictNamespaces", "yes"), Map.entry("SystemCallArchitectures", "native"),
                Map.entry("UMask", "0027"), Map.entry("CapabilityBoundingSet", "")));
        required.forEach((key, value) -> assertEquals(List.of(value), deb.get(key), key));
        assertTrue(!deb.containsKey("MemoryDenyWriteExecute"), "MemoryDenyWriteExecute breaks the JIT");
        assertTrue(!deb.containsKey("IPAddressDeny"), "a forward proxy must reach any address");
        assertTrue(!deb.containsKey("AmbientCapabilities"), "no capabilities by default");

        // the stop must outlast the drain the packaged config asks for
        long drainMs = ConfigLoader.load(pkg.resolve("etc/tollgate.json")).drainTimeoutMs();
        long timeoutStopMs = Long.parseLong(deb.get("TimeoutStopSec").get(0)) * 1000;
        assertTrue(timeoutStopMs > drainMs, () -> "TimeoutStopSec " + timeoutStopMs + " ms <= drain " + drainMs + " ms");
    }

    @Test
    void lintianReportsNoErrorAndOnlyTheWarningsDocumented() throws IOException {
        requireTool("lintian");
        Command lintian = Command.run("lintian", "--no-tag-display-limit", Packages.DEB.toString());
        String docs = Files.readString(Packages.DIST.resolve("../../../docs/packaging.md").normalize());

        List<String> errors = new ArrayList<>();
        List<String> undocumented = new ArrayList<>();
        for (String line : lintian.stdout().split("\n")) {
            Matcher tag = LINTIAN_TAG.matcher(line);
            if (!tag.find()) {
                continue;
            }
            if (tag.group(1).equals("E")) {
                errors.add(line);
            } else if (!docs.contains("`" + tag.group(2) + "`")) {
                undocumented.add(line);
            }
        }
        assertEquals(List.of(), errors, lintian::toString);
        assertEquals(List.of(), undocumented, "lintian tags not explained in docs/packaging.md");
    }

    /** A unit file's [Service] settings (and the rest), each key with all its values in order. */
    static Map<String, List<String>> unitSettings(Path unit) throws IOException {
        Map<String, List<String>> settings = new TreeMap<>();
        for (String line : Files.readAllLines(unit)) {
            String trimmed = line.trim();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith("[")) {
                continue;
            }
            int eq = trimmed.indexOf('=');
            settings.computeIfAbsent(trimmed.substring(0, eq), key -> new ArrayList<>()).add(trimmed.substring(eq + 1));
        }
        return settings;
    }

    static void requireTool(String tool) {
        assumeTrue(Command.available(tool), () -> "SKIPPED: " + tool + " is not installed (.ci/run installs it)");
    }

    static void requireRoot() {
        assumeTrue(Command.isRoot(), "SKIPPED: installing packages needs root");
    }

    private static String mode(Path file) {
        try {
            return "-" + java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> sorted(List<String> values) {
        return values.stream().sorted().collect(Collectors.toList());
    }
}
