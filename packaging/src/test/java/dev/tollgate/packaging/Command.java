package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One host command run to completion (dpkg, rpm, lintian, curl ...), with its output captured in files so
 * that a chatty command can never block on a full pipe. Standard input is /dev/null: dpkg must never wait
 * for an answer to a conffile question.
 */
record Command(List<String> argv, int exitCode, String stdout, String stderr) {

    static final long TIMEOUT_SECONDS = 300;

    static Command run(String... argv) {
        return run(Map.of(), List.of(argv));
    }

    static Command run(Map<String, String> env, List<String> argv) {
        try {
            Path out = Files.createTempFile("tollgate-cmd", ".out");
            Path err = Files.createTempFile("tollgate-cmd", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(argv)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile());
                builder.environment().put("LC_ALL", "C");
                builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
                builder.environment().putAll(env);
                Process process = builder.start();
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    fail(argv + " still running after " + TIMEOUT_SECONDS + " s");
                }
                return new Command(argv, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + argv + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + argv, e);
        }
    }

    /** Runs and fails the test unless the command exits 0; returns its stdout. */
    static String ok(String... argv) {
        return run(argv).assertOk().stdout();
    }

    Command assertOk() {
        if (exitCode != 0) {
            fail(this.toString());
        }
        return this;
    }

    /** True if {@code name} is an executable on PATH. */
    static boolean available(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    static boolean isRoot() {
        return "0".equals(run("id", "-u").stdout().trim());
    }

    @Override
    public String toString() {
        return String.join(" ", argv) + " exited " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
}
