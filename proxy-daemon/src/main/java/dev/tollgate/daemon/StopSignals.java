package dev.tollgate.daemon;

import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a graceful stop that ends with exit code 0, the way a service manager expects
 * a clean stop to end. (With the JVM's own handling, SIGTERM exits 143 after the shutdown hooks.)
 */
final class StopSignals {

    private StopSignals() {
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
