package dev.tollgate.daemon.audit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code tollgate run --config FILE} in its own JVM on this test's classpath, as an operator runs it: started
 * and watched through its stdout, stopped by signals. Its output is drained line by line on two threads.
 * <p>
 * It runs at nice -10, ahead of whatever else the machine runs: the durability tests measure the writer's
 * batching and commits, and a writer thread starved of CPU by other processes (a build next door at a load
 * average of 15 on two cores made single commits take 300 ms and more) would measure the neighbours
 * instead. Without the right to raise priority (not root), {@code nice} says so on stderr and runs the daemon
 * at normal priority.
 */
final class ChildDaemon implements AutoCloseable {

    static final Duration START_DEADLINE = Duration.ofSeconds(60);
    private static final String NICENESS = "-10";
    private static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin - listening on [^ ]+:(\\d+)");
    private static final Pattern STARTED = Pattern.compile("node \\S+ - started$");

    private final Process process;
    private final List<String> out = new CopyOnWriteArrayList<>();
    private final List<String> err = new CopyOnWriteArrayList<>();
    private final Object lines = new Object();
    private final Thread outPump;
    private final Thread errPump;
    private int port = -1;
    private int adminPort = -1;

    private ChildDaemon(Process process) {
        this.process = process;
        outPump = pump(process.getInputStream(), out, "stdout-" + process.pid());
        errPump = pump(process.getErrorStream(), err, "stderr-" + process.pid());
    }

    /** Runs {@code tollgate run --config config} in {@code workDir} and waits until it says it has started. */
    static ChildDaemon start(Path workDir, Path config, String maxHeap) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                "nice", "-n", NICENESS,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + maxHeap,
                "-cp", System.getProperty("java.class.path"),
                "dev.tollgate.daemon.Main", "run", "--config", config.toString()));
        ChildDaemon child = new ChildDaemon(new ProcessBuilder(command).directory(workDir.toFile()).start());
        try {
            child.port = Integer.parseInt(child.awaitLine(LISTENING, START_DEADLINE).group(1));
            child.adminPort = Integer.parseInt(child.awaitLine(ADMIN, START_DEADLINE).group(1));
            child.awaitLine(STARTED, START_DEADLINE);
            return child;
        } catch (Throwable t) {
            child.close();
            throw t;
        }
    }

    /** The port listener {@code main} bound. */
    int port() {
        return port;
    }

    int adminPort() {
        return adminPort;
    }

    List<String> stdout() {
        return List.copyOf(out);
    }

    /** Waits for a stdout line matching {@code pattern}; fails when the output ends first or at the deadline. */
    Matcher awaitLine(Pattern pattern, Duration within) throws InterruptedException {
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
                    fail("the daemon ended its output before printing /" + pattern + "/; " + output());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("no line matching /" + pattern + "/ within " + within + "; " + output());
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /**
     * SIGTERM, as a service manager stops the daemon: through the process handle, because
     * {@link Process#destroy()} would also close our ends of its stdout and stderr.
     */
    void sigterm() {
        if (!process.toHandle().destroy()) {
            fail("SIGTERM could not be sent; " + output());
        }
    }

    /** SIGKILL ({@link Process#destroyForcibly()} on Linux): no shutdown hook, no flush, nothing. */
    void sigkill() {
        process.destroyForcibly();
    }

    /** Waits for the process to exit and its output to be read; returns the exit code. */
    int awaitExit(Duration within) throws InterruptedException {
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the daemon did not exit within " + within + "; " + output());
        }
        outPump.join(10_000);
        errPump.join(10_000);
        return process.exitValue();
    }

    /** Everything it printed, for failure messages. */
    String output() {
        return "stdout:\n" + String.join("\n", out) + "\nstderr:\n" + String.join("\n", err);
    }

    /** Kills it if it still runs, and waits for it to be gone. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
}
