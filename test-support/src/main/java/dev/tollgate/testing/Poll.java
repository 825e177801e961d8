package dev.tollgate.testing;

import java.time.Duration;

/** Waits for a condition by polling it until a deadline, so that no test sleeps to wait for a result. */
public final class Poll {

    /** Generous: a deadline only ends a test that would otherwise hang, it never measures speed. */
    public static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final long INTERVAL_MS = 20;

    /** A condition that may throw while it is checked (a call that fails counts as "not yet" only if it says so). */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /** A value that may not be there yet: null means "not yet". */
    @FunctionalInterface
    public interface Probe<T> {
        T value() throws Exception;
    }

    private Poll() {
    }

    /** Polls until {@code condition} holds; fails naming {@code what} after {@link #DEADLINE}. */
    public static void until(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + DEADLINE.toSeconds() + " s: " + what);
            }
            Thread.sleep(INTERVAL_MS);
        }
    }

    /** Polls until {@code probe} gives a value other than null, and returns it. */
    public static <T> T forValue(String what, Probe<T> probe) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            T value = probe.value();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + DEADLINE.toSeconds() + " s: " + what);
            }
            Thread.sleep(INTERVAL_MS);
        }
    }
}
