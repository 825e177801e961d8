package dev.tollgate.daemon.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT into a graceful stop that ends with exit code 0, the way a service manager expects
 * a clean stop to end (with the JVM's own handling, SIGTERM exits 143 after the shutdown hooks), and SIGHUP into
 * a reload of tollgate.json (the JVM's own handling would stop the process with 129).
 */
final class StopSignals {

    private StopSignals() {
    }

    /**
     * Runs {@code onReload} on a thread of its own for each SIGHUP, so the signal's thread is never held.
     *
     * @return false when SIGHUP cannot reach the daemon: the process was started with it ignored (under
     *         {@code nohup}, say), which the JVM keeps, or the JVM was told to leave signals alone
     */
    static boolean installReload(Runnable onReload) {
        try {
            SignalHandler before = Signal.handle(new Signal("HUP"), signal -> {
                Thread reload = new Thread(onReload, "tollgate-reload");
                reload.setDaemon(true);
                reload.start();
            });
            return before != SignalHandler.SIG_IGN;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static void install(Runnable onStop) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signal -> onStop.run());
            } catch (IllegalArgumentException e) {
                // The signal is not available here (or the JVM was told to leave it alone): the shutdown hook
                // still stops the daemon gracefully.
            }
        }
    }
}
