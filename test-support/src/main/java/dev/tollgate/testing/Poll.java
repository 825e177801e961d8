package dev.tollgate.testing;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

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
        until(what, DEADLINE, condition);
    }

    /** As {@link #until(String, Condition)}, with a deadline of the caller's (a wait known to be longer). */
    public static void until(String what, Duration within, Condition condition) throws Exception {
        forMatch(what, within, condition::holds, Boolean::booleanValue);
    }

    /**
     * As {@link #until(String, Duration, Condition)}, the failure's text made when it fails (to show, say, a
     * child process's output as it was then).
     */
    public static void until(Supplier<String> what, Duration within, Condition condition) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + within.toSeconds() + " s: " + what.get());
            }
            Thread.sleep(INTERVAL_MS);
        }
    }

    /** Polls until {@code probe} gives a value other than null, and returns it. */
    public static <T> T forValue(String what, Probe<T> probe) throws Exception {
        return forMatch(what, DEADLINE, probe, value -> value != null);
    }

    /**
     * Polls {@code source} until its value satisfies {@code done} and returns that value; fails after
     * {@link #DEADLINE} naming {@code what} and the last value seen, so that the failure shows how far it got.
     */
    public static <T> T forMatch(String what, Probe<T> source, Predicate<? super T> done) throws Exception {
        return forMatch(what, DEADLINE, source, done);
    }

    /** As {@link #forMatch(String, Probe, Predicate)}, with a deadline of the caller's. */
    public static <T> T forMatch(String what, Duration within, Probe<T> source, Predicate<? super T> done)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            T value = source.value();
            if (done.test(value)) {
                return value;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + within.toSeconds() + " s: " + what
                        + (value instanceof Boolean || value == null ? "" : "; last seen: " + value));
            }
            Thread.sleep(INTERVAL_MS);
        }
    }
}
