package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the built launcher, {@code target/tollgate/bin/tollgate}, as a real child process, the way an
 * operator or systemd would: from other directories, through symlinks, with a broken environment.
 * The build passes the folder and the project version in as the {@code tollgate.dist} and
 * {@code tollgate.version} system properties.
 */
class LauncherIT {

    private static final long PROCESS_TIMEOUT_SECONDS = 60;
    private static final String PACKAGED_LIB = "/usr/share/tollgate/lib";

    private final Path dist = Path.of(requiredProperty("tollgate.dist"));
    private final String version = requiredProperty("tollgate.version");
    private final Path launcher = dist.resolve("bin/tollgate");

    @TempDir
    Path tmp;

    private Path elsewhere;

    @BeforeEach
    void createUnrelatedWorkingDirectory() throws IOException {
        // Every run starts outside the distribution, so nothing may depend on the caller's cwd.
        elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
    }

    @Test
    void distributionHasExecutableLauncherAndRuntimeJarsOnly() throws IOException {
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(launcher)));
        List<String> jars = jarNames(dist.resolve("lib"));
        assertTrue(jars.contains("proxy-daemon-" + version + ".jar"), () -> "no daemon jar in " + jars);
        assertTrue(jars.stream().anyMatch(jar -> jar.startsWith("picocli-")), () -> "no picocli in " + jars);
        assertTrue(jars.stream().noneMatch(jar -> jar.startsWith("junit-") || jar.endsWith("-tests.jar")),
                () -> "test jars shipped: " + jars);
    }

    @Test
    void versionPrintsProjectVersionAndExitsZero() throws Exception {
        Result result = run(List.of(launcher.toString(), "version"), elsewhere, env -> { });

        result.assertSucceeded();
        assertTrue(result.stdout().contains(version), () -> "version not printed: " + result);
    }

    @Test
    void calledThroughChainOfSymlinksFromAnotherDirectory() throws Exception {
        // links/tollgate -> ../chain/tollgate (relative) -> <dist>/bin/tollgate (absolute)
        Path chain = Files.createDirectory(tmp.resolve("chain"));
        Files.createSymbolicLink(chain.resolve("tollgate"), launcher);
        Path links = Files.createDirectory(tmp.resolve("links"));
        Files.createSymbolicLink(links.resolve("tollgate"), Path.of("../chain/tollgate"));

        Result absolute = run(List.of(links.resolve("tollgate").toString(), "version"), elsewhere, env -> { });
        Result relative = run(List.of("../links/tollgate", "version"), elsewhere, env -> { });

        absolute.assertSucceeded();
        assertTrue(absolute.stdout().contains(version), () -> "version not printed: " + absolute);
        relative.assertSucceeded();
        assertTrue(relative.stdout().contains(version), () -> "version not printed: " + relative);
    }

    @Test
    void installedAsUsrBinLinkIntoUsrShare() throws Exception {
        // The package layout in miniature: usr/bin/tollgate -> ../share/tollgate/bin/tollgate,
        // with usr/share/tollgate itself a directory symlink to the built tree.
        Path usr = Files.createDirectories(tmp.resolve("usr/bin")).getParent();
        Files.createDirectories(usr.resolve("share"));
        Files.createSymbolicLink(usr.resolve("share/tollgate"), dist);
        Files.createSymbolicLink(usr.resolve("bin/tollgate"), Path.of("../share/tollgate/bin/tollgate"));

        Result result = run(List.of(usr.resolve("bin/tollgate").toString(), "version"), elsewhere, env -> { });

        result.assertSucceeded();
        assertTrue(result.stdout().contains(version), () -> "version not printed: " + result);
    }

    @Test
    void tollgateHomeOverridesDetection() throws Exception {
        Path copy = copyLauncherAlone();

        Result result = run(List.of(copy.toString(), "version"), elsewhere,
                env -> env.put("TOLLGATE_HOME", dist.toString()));

        result.assertSucceeded();
        assertTrue(result.stdout().contains(version), () -> "version not printed: " + result);
    }

    @Test
    void launcherWithoutJarsNamesWhereItLookedAndTollgateHome() throws Exception {
        assumeFalse(Files.isDirectory(Path.of(PACKAGED_LIB)), "Tollgate is installed on this host");
        Path copy = copyLauncherAlone();

        Result result = run(List.of(copy.toString(), "version"), elsewhere, env -> { });

        result.assertFailedWith("cannot find the Tollgate jars");
        assertTrue(result.stderr().contains("TOLLGATE_HOME"), () -> "no hint: " + result);
    }

    @Test
    void javaHomePointingNowhereIsAClearError() throws Exception {
        Path missing = tmp.resolve("no-such-jdk");

        Result result = run(List.of(launcher.toString(), "version"), elsewhere,
                env -> env.put("JAVA_HOME", missing.toString()));

        result.assertFailedWith("JAVA_HOME is " + missing);
        assertTrue(result.stderr().contains(missing + "/bin/java"), () -> "java path not named: " + result);
    }

    @Test
    void noJavaOnPathAndNoJavaHomeIsAClearError() throws Exception {
        // An empty PATH also proves a direct start needs no external tools before java.
        Path emptyPath = Files.createDirectory(tmp.resolve("empty-path"));

        Result result = run(List.of(launcher.toString(), "version"), elsewhere, env -> {
            env.remove("JAVA_HOME");
            env.put("PATH", emptyPath.toString());
        });

        result.assertFailedWith("no java found");
    }

    @Test
    void launcherExecsJavaSoTheJvmKeepsItsPid() throws Exception {
        // The JVM logs its own PID through unified logging, whatever Main does. Two -Xlog options in
        // one JAVA_OPTS also check that JAVA_OPTS is split into words: unsplit, neither file appears.
        Path gcLog = tmp.resolve("gc.log");
        Path initLog = tmp.resolve("gc-init.log");
        String javaOpts = "-Xlog:gc:file=" + gcLog + ":pid  -Xlog:gc+init:file=" + initLog + ":pid";

        Result result = run(List.of(launcher.toString(), "version"), elsewhere,
                env -> env.put("JAVA_OPTS", javaOpts));

        result.assertSucceeded();
        String expected = "[" + result.pid() + "]";
        String gc = Files.readString(gcLog);
        assertTrue(gc.contains(expected), () -> "JVM pid is not the launcher's " + expected + ": " + gc);
        assertTrue(Files.readString(initLog).contains(expected), "second JAVA_OPTS word was lost");
    }

    @AfterEach
    void removeLinksIntoTheDistribution() throws IOException {
        // JUnit warns about every symlink that leads out of the temp dir when it cleans up.
        try (Stream<Path> files = Files.walk(tmp)) {
            for (Path link : files.filter(Files::isSymbolicLink).toList()) {
                Files.delete(link);
            }
        }
    }

    /** Copies bin/tollgate to a folder with no lib/ beside it. */
    private Path copyLauncherAlone() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("alone/bin"));
        return Files.copy(launcher, bin.resolve("tollgate"));
    }

    private Result run(List<String> command, Path workingDir, Consumer<Map<String, String>> adjustEnv)
            throws IOException, InterruptedException {
        Path stdout = Files.createTempFile(tmp, "stdout", ".txt");
        Path stderr = Files.createTempFile(tmp, "stderr", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workingDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        Map<String, String> env = builder.environment();
        // A known starting point: the JDK running this test, and nothing the developer's shell set.
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("JAVA_OPTS");
        env.remove("TOLLGATE_HOME");
        env.remove("JAVA_TOOL_OPTIONS");
        adjustEnv.accept(env);

        Process process = builder.start();
        if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(command + " still running after " + PROCESS_TIMEOUT_SECONDS + " s");
        }
        return new Result(process.pid(), process.exitValue(),
                Files.readString(stdout, StandardCharsets.UTF_8), Files.readString(stderr, StandardCharsets.UTF_8));
    }

    private static List<String> jarNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    private static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set; run this test through Maven (mvn verify)");
        }
        return value;
    }

    private record Result(long pid, int exitCode, String stdout, String stderr) {

        void assertSucceeded() {
            assertEquals(0, exitCode, () -> "launcher failed: " + this);
        }

        /** Exit code 1, the message on stderr and nothing on stdout. */
        void assertFailedWith(String message) {
            assertEquals(1, exitCode, () -> "wrong exit code: " + this);
            assertTrue(stderr.contains(message), () -> "expected \"" + message + "\" on stderr: " + this);
            assertTrue(stdout.isEmpty(), () -> "unexpected stdout: " + this);
        }
    }
}
