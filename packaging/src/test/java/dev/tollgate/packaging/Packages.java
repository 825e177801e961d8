package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The built packages and the layout both must install (docs/packaging.md, "Files"). Paths are given as the
 * .deb names them; {@link #debPathOf} maps the two places where the .rpm follows its own distributions.
 * The build passes {@code tollgate.dist}, {@code tollgate.deb} and {@code tollgate.rpm} in as system properties.
 */
final class Packages {

    static final Path DIST = Path.of(required("tollgate.dist"));
    static final Path DEB = Path.of(required("tollgate.deb"));
    static final Path RPM = Path.of(required("tollgate.rpm"));
    static final String PKG_VERSION = required("tollgate.pkgVersion");

    static final String DEPENDS = "default-jre-headless (>= 2:1.17) | java17-runtime-headless, adduser";
    static final List<String> CONFFILES = List.of(
            "/etc/tollgate/tollgate.json", "/etc/tollgate/logback.xml", "/etc/default/tollgate");

    /** One file or directory in a package: its type and permissions as ls shows them, owner and group. */
    record Entry(String perms, String owner, String group) {
    }

    private Packages() {
    }

    /** Every file (not directory) a package must install, with its mode; everything is root:root. */
    static Map<String, String> expectedFiles() throws IOException {
        Map<String, String> files = new TreeMap<>();
        files.put("/usr/bin/tollgate", "-rwxr-xr-x");
        for (String conffile : CONFFILES) {
            files.put(conffile, "-rw-r--r--");
        }
        files.put("/lib/systemd/system/tollgate.service", "-rw-r--r--");
        files.put("/usr/share/doc/tollgate/copyright", "-rw-r--r--");
        files.put("/usr/share/doc/tollgate/changelog.gz", "-rw-r--r--");
        files.put("/usr/share/doc/tollgate/README.md", "-rw-r--r--");
        files.put("/usr/share/man/man8/tollgate.8.gz", "-rw-r--r--");
        files.put("/usr/share/bash-completion/completions/tollgate", "-rw-r--r--");
        try (Stream<Path> jars = Files.list(DIST.resolve("lib"))) {
            jars.forEach(jar -> files.put("/usr/share/tollgate/lib/" + jar.getFileName(), "-rw-r--r--"));
        }
        assertTrue(files.keySet().stream().anyMatch(path -> path.matches("/usr/share/tollgate/lib/proxy-daemon-.*\\.jar")),
                "no daemon jar in " + DIST.resolve("lib"));
        return files;
    }

    /** The directories that belong to Tollgate alone, which both packages must own. */
    static List<String> ownDirectories() {
        return List.of("/etc/tollgate", "/usr/share/tollgate", "/usr/share/tollgate/lib", "/usr/share/doc/tollgate");
    }

    /** The .deb's data, from {@code dpkg-deb -c}, keyed by absolute path. */
    static Map<String, Entry> debEntries() {
        Map<String, Entry> entries = new TreeMap<>();
        for (String line : Command.ok("dpkg-deb", "-c", DEB.toString()).split("\n")) {
            // -rwxr-xr-x root/root      3954 2026-11-27 10:26 ./usr/bin/tollgate
            String[] fields = line.trim().split("\\s+", 6);
            String[] owner = fields[1].split("/");
            String path = fields[5].substring(1).replaceAll("/$", "");
            if (!path.isEmpty()) {
                entries.put(path, new Entry(fields[0], owner[0], owner[1]));
            }
        }
        return entries;
    }

    /** The .rpm's payload, from {@code rpm -qp}, keyed by the path the .deb gives the same file. */
    static Map<String, Entry> rpmEntries() {
        Map<String, Entry> entries = new TreeMap<>();
        String format = "[%{FILEMODES:perms}\\t%{FILEUSERNAME}\\t%{FILEGROUPNAME}\\t%{FILENAMES}\\n]";
        for (String line : Command.ok("rpm", "-qp", "--qf", format, RPM.toString()).split("\n")) {
            String[] fields = line.split("\t");
            entries.put(debPathOf(fields[3]), new Entry(fields[0], fields[1], fields[2]));
        }
        return entries;
    }

    /** The .rpm's names for the .deb's /etc/default/tollgate and /lib/systemd/system, mapped back. */
    static String debPathOf(String rpmPath) {
        if (rpmPath.equals("/etc/sysconfig/tollgate")) {
            return "/etc/default/tollgate";
        }
        if (rpmPath.startsWith("/usr/lib/systemd/system/")) {
            return rpmPath.substring("/usr".length());
        }
        return rpmPath;
    }

    static Map<String, String> filesOnly(Map<String, Entry> entries) {
        Map<String, String> files = new TreeMap<>();
        entries.forEach((path, entry) -> {
            if (!entry.perms().startsWith("d")) {
                files.put(path, entry.perms());
            }
        });
        return files;
    }

    static void assertAllRootOwned(Map<String, Entry> entries, String what) {
        entries.forEach((path, entry) -> {
            assertEquals("root", entry.owner(), () -> what + ": " + path + " not owned by root");
            assertEquals("root", entry.group(), () -> what + ": " + path + " not in group root");
        });
    }

    private static String required(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set; run this test through Maven");
        }
        return value;
    }
}
