package dev.tollgate.daemon;

import dev.tollgate.daemon.cli.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code tollgate args...} as a child JVM on this test's classpath, its stdout and stderr drained line by line
 * on their own threads. Tests kill every one they launch in {@code @AfterEach}.
 */
public final class TollgateProcess {

    private final Process process;
    private final List<String> out = new CopyOnWriteArrayList<>();
    private final List<String> err = new CopyOnWriteArrayList<>();
    private final Object lines = new Object();
    private final Thread outPump;
    private final Thread errPump;

    private TollgateProcess(Process process) {
        this.process = process;
        outPump = pump(process.getInputStream(), out, "stdout-" + process.pid());
        errPump = pump(process.getErrorStream(), err, "stderr-" + process.pid());
    }

    /**
     * Variables systemd sets for a service (LinePrefixConverter): taken out of every child's environment, so that
     * a test run from inside a systemd unit sees the same log lines as one run from a terminal.
     */
    public static final List<String> SYSTEMD_VARIABLES = List.of("INVOCATION_ID", "JOURNAL_STREAM");

    /** Starts {@code tollgate args...} working in {@code dir}. */
    public static TollgateProcess launch(Path dir, String... args) throws IOException {
        return launchWithEnvironment(dir, Map.of(), args);
    }

    /** Starts {@code tollgate args...} working in {@code dir}, with these variables added to its environment. */
    public static TollgateProcess launchWithEnvironment(Path dir, Map<String, String> environment, String... args)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command(args)).directory(dir.toFile());
        builder.environment().keySet().removeAll(SYSTEMD_VARIABLES);
        builder.environment().putAll(environment);
        return new TollgateProcess(builder.start());
    }

    /** Starts {@code tollgate args...} working in {@code dir}, in a JVM with {@code jvmOptions} (e.g. -Xmx64m). */
    public static TollgateProcess launchWithJvmOptions(Path dir, List<String> jvmOptions, String... args)
            throws IOException {
        return launchWithPrefix(dir, List.of(), jvmOptions, args);
    }

    /**
     * As {@link #launchWithJvmOptions}, the JVM started through {@code prefix} (e.g. {@code nice -n -10}), which
     * execs it: the process and its output are the JVM's.
     */
    public static TollgateProcess launchWithPrefix(Path dir, List<String> prefix, List<String> jvmOptions,
                                                   String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(command(jvmOptions, args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().keySet().removeAll(SYSTEMD_VARIABLES);
        return new TollgateProcess(builder.start());
    }

    /** The command line of {@code tollgate args...}: a JVM on this test's classpath. */
    public static List<String> command(String... args) {
        return command(List.of("-Xmx256m"), args);
    }

    private static List<String> command(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(Arrays.asList(args));
        return command;
    }

    private Thread pump(InputStream stream, List<String> into, String name) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    synchronized (lines) {
                        into.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
            synchronized (lines) {
                lines.notifyAll();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** The child's stdin; close it to send end-of-file. */
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    public List<String> stdout() {
        return List.copyOf(out);
    }

    public List<String> stderr() {
        return List.copyOf(err);
    }

    /** Waits for a stdout line matching {@code pattern}; fails when the process ends first or at the deadline. */
    public Matcher awaitLine(Pattern pattern, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        int seen = 0;
        synchronized (lines) {
            while (true) {
                for (; seen < out.size(); seen++) {
                    Matcher matcher = pattern.matcher(out.get(seen));
                    if (matcher.find()) {
                        return matcher;
                    }
                }
                if (!outPump.isAlive()) {
                    fail("the process ended its output before printing /" + pattern + "/; " + output());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("no line matching /" + pattern + "/ within " + within + "; " + output());
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** Waits for the process to exit and its output to be read; returns the exit code. */
    public int awaitExit(Duration within) throws InterruptedException {
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the process did not exit within " + within + "; " + output());
        }
        outPump.join(10_000);
        errPump.join(10_000);
        return process.exitValue();
    }

    /** SIGTERM through the process handle, which leaves our ends of stdout and stderr open. */
    public void sigterm() {
        assertTrue(process.toHandle().destroy(), "SIGTERM sent");
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String output() {
        return "stdout:\n" + String.join("\n", out) + "\nstderr:\n" + String.join("\n", err);
    }

    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
