package dev.tollgate.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * For ITs that run {@code tollgate} as an operator does, in child JVMs on this test's classpath working in a
 * temporary directory: daemons ({@link #launch}), which are killed after each test, and one-shot commands such as
 * {@code sql}, {@code verify} and {@code check} ({@link #runToEnd}), run to their exit with stdin closed.
 */
public abstract class ChildProcessTestBase {

    /** Generous bounds used only as deadlines, never asserted as speeds. */
    protected static final Duration START_DEADLINE = Duration.ofSeconds(60);
    protected static final Duration EXIT_DEADLINE = Duration.ofSeconds(60);
    /** The daemon's line for listener "main", with its port as group 1. */
    protected static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)");
    /** The admin API's line, with its port as group 1. */
    protected static final Pattern ADMIN_LISTENING = Pattern.compile("admin - listening on 127\\.0\\.0\\.1:(\\d+)");
    /** The auditors' SQL server's line, with its port as group 1. */
    protected static final Pattern SQL_LISTENING = Pattern.compile(
            "sql - read-only SQL for auditors on 127\\.0\\.0\\.1:(\\d+)$");
    protected static final Pattern STARTED = Pattern.compile(" - started$");

    @TempDir
    protected Path dir;

    private final List<TollgateProcess> children = new ArrayList<>();
    private final List<Process> oneShots = new ArrayList<>();

    @AfterEach
    void killChildren() throws InterruptedException {
        for (TollgateProcess child : children) {
            child.kill();
        }
        for (Process process : oneShots) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** {@code tollgate args...} as a child JVM, killed after the test. */
    protected TollgateProcess launch(String... args) throws IOException {
        return killedAfterTest(TollgateProcess.launch(dir, args));
    }

    /** {@code child}, launched by the caller (with an environment or JVM options), killed after the test. */
    protected TollgateProcess killedAfterTest(TollgateProcess child) {
        children.add(child);
        return child;
    }

    /** A finished one-shot command: its exit code, and stdout and stderr exactly as written. */
    protected record Finished(int exit, String stdout, String stderr) {
        public List<String> stdoutLines() {
            return stdout.lines().toList();
        }

        public List<String> stderrLines() {
            return stderr.lines().toList();
        }

        /** Everything it said, for assertion messages. */
        public String output() {
            return "exit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    /** {@code tollgate args...} run to its end with stdin closed, its output in files; fails past the deadline. */
    protected Finished runToEnd(String... args) throws Exception {
        Path out = Files.createTempFile(dir, args[0] + "-", ".out");
        Path err = Files.createTempFile(dir, args[0] + "-", ".err");
        Process process = new ProcessBuilder(TollgateProcess.command(args))
                .directory(dir.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        oneShots.add(process);
        process.getOutputStream().close();
        if (!process.waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("tollgate " + String.join(" ", args) + " did not exit within " + EXIT_DEADLINE);
        }
        return new Finished(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    /**
     * A config file {@code dir/tollgate-NAME.json}: state in {@code stateDir}, the admin API on a free port, the
     * store as {@code storeJson} and listener "main" on a free port that may reach loopback origins.
     */
    protected Path writeConfig(String name, Path stateDir, String storeJson) throws IOException {
        Path config = dir.resolve("tollgate-" + name + ".json");
        Files.writeString(config, "{\n"
                + "  \"stateDir\": \"" + stateDir.toString().replace("\\", "\\\\") + "\",\n"
                + "  \"admin\": {\"port\": 0},\n"
                + "  \"store\": " + storeJson + ",\n"
                + "  \"listeners\": [{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [],"
                + " \"allowLocalHost\": true}]\n"
                + "}\n");
        return config;
    }
}
