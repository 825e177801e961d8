package dev.tollgate.daemon.clients;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * apt-get fetching from a Debian repository on loopback through {@code Acquire::http::Proxy} (issue #20): the
 * test builds a package (dpkg-deb), indexes it (apt-ftparchive, package apt-utils), and runs {@code apt-get
 * update} and {@code apt-get download} with a configuration of its own ({@code APT_CONFIG}: every Dir::Etc,
 * Dir::State and Dir::Cache under the test's directory), so the machine's sources, lists, cache and dpkg
 * status are never read or touched. Nothing is installed.
 */
class AptIT extends OriginBehindTollgate {

    private static final Duration LIMIT = Duration.ofMinutes(2);

    @BeforeEach
    void start() throws Exception {
        ClientTool.assumeInstalled("apt-get", "apt");
        ClientTool.assumeInstalled("dpkg-deb", "dpkg");
        ClientTool.assumeInstalled("apt-ftparchive", "apt-utils");
        startOriginAndTollgate(Files.createDirectories(dir.resolve("www")), null);
    }

    @Test
    void aptGetUpdatesItsListsAndDownloadsAPackageThroughTheProxy() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("www").resolve("repo"));
        Path deb = buildPackage(repo);
        Files.writeString(repo.resolve("Packages"), run(repo, "apt-ftparchive", "packages", ".").stdout());
        Files.writeString(repo.resolve("Release"), run(repo, "apt-ftparchive", "release", ".").stdout());
        Path aptConfig = aptConfiguration();
        Path downloads = Files.createDirectories(dir.resolve("downloads"));
        Map<String, String> env = Map.of("APT_CONFIG", aptConfig.toString());

        ClientTool.Result update = ClientTool.run(dir, LIMIT, env, List.of("apt-get", "-q", "update"));
        assertEquals(0, update.exitCode(), update::output);
        ClientTool.Result download = ClientTool.run(downloads, LIMIT, env, List.of("apt-get", "-q", "download",
                "tollgate-probe"));
        assertEquals(0, download.exitCode(), download::output);

        Path fetched = downloads.resolve(deb.getFileName());
        assertTrue(Files.exists(fetched), download::output);
        assertEquals(WebOrigin.sha256(deb), WebOrigin.sha256(fetched));
        AccessRecord packages = tollgate.awaitRows(1, r -> r.path() != null && r.path().endsWith("/Packages"))
                .get(0);
        assertEquals(200, packages.status(), packages::toString);
        assertEquals(Outcome.OK, packages.outcome(), packages::toString);
        AccessRecord fetch = tollgate.awaitRows(1, r -> r.path() != null && r.path().endsWith(".deb")).get(0);
        assertEquals(200, fetch.status(), fetch::toString);
        assertEquals(Outcome.OK, fetch.outcome(), fetch::toString);
        assertEquals(Files.size(deb), fetch.bytesToClient(), fetch::toString);
        assertTrue(origin.received().stream().allMatch(r -> r.header("Via") != null),
                "everything apt fetched came through the proxy");
    }

    /** A package of one file, built by dpkg-deb into {@code repo}. */
    private Path buildPackage(Path repo) throws Exception {
        Path root = dir.resolve("pkg");
        Files.createDirectories(root.resolve("DEBIAN"));
        Files.createDirectories(root.resolve("usr/share/tollgate-probe"));
        Files.writeString(root.resolve("DEBIAN/control"), """
                Package: tollgate-probe
                Version: 1.0
                Architecture: all
                Maintainer: Tollgate tests <test@localhost>
                Description: fetched through Tollgate by AptIT
                """);
        Files.writeString(root.resolve("usr/share/tollgate-probe/hello.txt"), "through tollgate\n");
        Path deb = repo.resolve("tollgate-probe_1.0_all.deb");
        run(dir, "dpkg-deb", "--root-owner-group", "--build", root.toString(), deb.toString());
        return deb;
    }

    /** apt's whole configuration, every directory under the test's own. */
    private Path aptConfiguration() throws Exception {
        Path apt = Files.createDirectories(dir.resolve("apt"));
        for (String sub : List.of("apt.conf.d", "sources.list.d", "preferences.d", "trusted.gpg.d",
                "state/lists/partial", "cache/archives/partial", "log")) {
            Files.createDirectories(apt.resolve(sub));
        }
        Files.writeString(apt.resolve("state/status"), "");
        Files.writeString(apt.resolve("sources.list"), "deb [trusted=yes] " + origin.base() + "/files/repo ./\n");
        List<String> lines = new ArrayList<>();
        lines.add("Dir::Etc::main \"" + apt.resolve("apt.conf") + "\";");
        lines.add("Dir::Etc::Parts \"" + apt.resolve("apt.conf.d") + "\";");
        lines.add("Dir::Etc::SourceList \"" + apt.resolve("sources.list") + "\";");
        lines.add("Dir::Etc::SourceParts \"" + apt.resolve("sources.list.d") + "\";");
        lines.add("Dir::Etc::Preferences \"" + apt.resolve("preferences") + "\";");
        lines.add("Dir::Etc::PreferencesParts \"" + apt.resolve("preferences.d") + "\";");
        lines.add("Dir::Etc::TrustedParts \"" + apt.resolve("trusted.gpg.d") + "\";");
        lines.add("Dir::State \"" + apt.resolve("state") + "\";");
        lines.add("Dir::State::Lists \"" + apt.resolve("state/lists") + "\";");
        lines.add("Dir::State::status \"" + apt.resolve("state/status") + "\";");
        lines.add("Dir::Cache \"" + apt.resolve("cache") + "\";");
        lines.add("Dir::Log \"" + apt.resolve("log") + "\";");
        lines.add("Debug::NoLocking \"true\";");
        // The downloads are written into directories this test made, which apt's _apt user could not write.
        lines.add("APT::Sandbox::User \"root\";");
        lines.add("Acquire::Languages \"none\";");
        lines.add("Acquire::http::Proxy \"http://127.0.0.1:" + tollgate.port() + "/\";");
        Path config = apt.resolve("apt.conf");
        Files.write(config, lines);
        return config;
    }

    private ClientTool.Result run(Path in, String... command) throws Exception {
        ClientTool.Result result = ClientTool.run(in, LIMIT, command);
        assertEquals(0, result.exitCode(), () -> String.join(" ", command) + "\n" + result.output());
        return result;
    }
}
