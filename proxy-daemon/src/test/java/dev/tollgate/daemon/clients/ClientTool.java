package dev.tollgate.daemon.clients;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real client program (curl, wget, git, apt-get, pip...) as a child process and hands back its exit
 * status and output. Every run is bounded: a program still running at its limit is killed (with its children)
 * and the run fails. The proxy environment variables of the machine are removed, so that a client goes
 * through the proxy its test names and nothing else (a {@code no_proxy} naming 127.0.0.1 would bypass it).
 */
public final class ClientTool {

    private static final List<String> PROXY_VARIABLES = List.of("http_proxy", "https_proxy", "ftp_proxy",
            "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "ALL_PROXY", "NO_PROXY");

    /** What a run left behind. */
    public record Result(int exitCode, String stdout, String stderr) {

        /** Both streams, for failure messages. */
        public String output() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private ClientTool() {
    }

    /** Whether {@code program} is an executable on the PATH. */
    public static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the calling test, saying why, unless {@code program} is installed (.ci/run installs it as root). */
    public static void assumeInstalled(String program, String debianPackage) {
        Assumptions.assumeTrue(onPath(program), () -> program + " is not installed (Debian package "
                + debianPackage + "; .ci/run installs it when run as root): skipped");
    }

    /** Runs {@code command} in {@code dir} with {@code environment} added, for at most {@code limit}. */
    public static Result run(Path dir, Duration limit, Map<String, String> environment, List<String> command)
            throws IOException, InterruptedException {
        // Not in dir, which may be what the program lists or archives (apt-ftparchive).
        Path out = Files.createTempFile("client-tool-stdout", ".txt");
        Path err = Files.createTempFile("client-tool-stderr", ".txt");
        try {
            return run(dir, limit, environment, command, out, err);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static Result run(Path dir, Duration limit, Map<String, String> environment, List<String> command,
                              Path out, Path err) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        PROXY_VARIABLES.forEach(builder.environment()::remove);
        builder.environment().putAll(environment);
        Process process = builder.start();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(command + " still running after " + limit + "; killed.\n"
                    + Files.readString(err, StandardCharsets.UTF_8));
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    /** As {@link #run(Path, Duration, Map, List)} with nothing added to the environment. */
    public static Result run(Path dir, Duration limit, String... command) throws IOException, InterruptedException {
        return run(dir, limit, Map.of(), List.of(command));
    }
}
