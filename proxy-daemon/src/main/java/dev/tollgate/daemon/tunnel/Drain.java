package dev.tollgate.daemon.tunnel;

/**
 * A listener's drain: once begun, its tunnels are not closed for idleness before the deadline, so that a
 * graceful stop lets an open tunnel finish even when it is quiet for a moment. Jetty shortens every
 * endpoint's idle timeout while a connector shuts down; plain keep-alive connections still close after it.
 */
public final class Drain {

    private volatile long deadlineNanos;
    private volatile boolean begun;

    /** Called when the listener stops accepting. */
    public void begin(long drainMs) {
        deadlineNanos = System.nanoTime() + drainMs * 1_000_000;
        begun = true;
    }

    /** Whether a tunnel idle now should be kept open: the drain has begun and its deadline is ahead. */
    boolean keepsTunnelsOpen() {
        return begun && System.nanoTime() - deadlineNanos < 0;
    }

    /**
     * Whether the drain's deadline has passed: the listener is closing what is left, so a tunnel that ends now
     * was cut by the proxy itself, and the errors its connections see are not a failure of the client or the
     * origin.
     */
    boolean isOver() {
        return begun && System.nanoTime() - deadlineNanos >= 0;
    }
}
