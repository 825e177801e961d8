package dev.tollgate.daemon.audit;

import dev.tollgate.daemon.TollgateProcess;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tollgate run --config FILE} in its own JVM on this test's classpath ({@link TollgateProcess}), as an
 * operator runs it: started and watched through its stdout, stopped by signals.
 * <p>
 * It runs at nice -10, ahead of whatever else the machine runs: the durability tests measure the writer's
 * batching and commits, and a writer thread starved of CPU by other processes (a build next door at a load
 * average of 15 on two cores made single commits take 300 ms and more) would measure the neighbours
 * instead. Without the right to raise priority (not root), {@code nice} says so on stderr and runs the daemon
 * at normal priority.
 */
final class ChildDaemon implements AutoCloseable {

    static final Duration START_DEADLINE = Duration.ofSeconds(60);
    private static final List<String> NICE = List.of("nice", "-n", "-10");
    private static final Pattern LISTENING = Pattern.compile("main - listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin - listening on [^ ]+:(\\d+)");
    private static final Pattern STARTED = Pattern.compile("node \\S+ - started$");

    private final TollgateProcess process;
    private final int port;
    private final int adminPort;

    private ChildDaemon(TollgateProcess process, int port, int adminPort) {
        this.process = process;
        this.port = port;
        this.adminPort = adminPort;
    }

    /** Runs {@code tollgate run --config config} in {@code workDir} and waits until it says it has started. */
    static ChildDaemon start(Path workDir, Path config, String maxHeap) throws Exception {
        TollgateProcess process = TollgateProcess.launchWithPrefix(workDir, NICE, List.of("-Xmx" + maxHeap), "run",
                "--config", config.toString());
        try {
            int port = Integer.parseInt(process.awaitLine(LISTENING, START_DEADLINE).group(1));
            int adminPort = Integer.parseInt(process.awaitLine(ADMIN, START_DEADLINE).group(1));
            process.awaitLine(STARTED, START_DEADLINE);
            return new ChildDaemon(process, port, adminPort);
        } catch (Throwable t) {
            process.kill();
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

    /** Waits for a stdout line matching {@code pattern}; fails when the output ends first or at the deadline. */
    Matcher awaitLine(Pattern pattern, Duration within) throws InterruptedException {
        return process.awaitLine(pattern, within);
    }

    /** SIGTERM, as a service manager stops the daemon. */
    void sigterm() {
        process.sigterm();
    }

    /** SIGKILL: no shutdown hook, no flush, nothing. */
    void sigkill() {
        process.kill();
    }

    /** Waits for the process to exit and its output to be read; returns the exit code. */
    int awaitExit(Duration within) throws InterruptedException {
        return process.awaitExit(within);
    }

    /** Everything it printed, for failure messages. */
    String output() {
        return process.output();
    }

    /** Kills it if it still runs, and waits for it to be gone. */
    @Override
    public void close() {
        process.kill();
    }
}
