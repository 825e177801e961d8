package dev.tollgate.daemon.tunnel;

import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The endpoint of a tunnel's upstream connection, and of every client connection ({@link
 * ResetReportingConnector}). Jetty's {@link SocketChannelEndPoint#fill} turns a failed
 * read (a TCP reset: "Connection reset") into an ordinary end of stream, so a tunnel whose upstream aborted
 * would be recorded as having ended cleanly. This one fills the same way but lets the failure through, so that
 * the tunnel closes with it as the cause and its row says UPSTREAM_RESET. Check it on each Jetty upgrade.
 * <p>
 * A client endpoint that carries a tunnel also runs the tunnel's hook just before the client can see the tunnel
 * end (a FIN once the client has finished sending too, or the socket closed): the tunnel's record goes into the
 * journal there, so that a crash right after cannot lose the row of a tunnel whose close the client saw.
 */
final class ResetReportingEndPoint extends SocketChannelEndPoint {

    private static final Logger LOG = LoggerFactory.getLogger(ResetReportingEndPoint.class);
    private final AtomicReference<Runnable> beforeClientSeesEnd = new AtomicReference<>();

    ResetReportingEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler) {
        super(channel, selector, key, scheduler);
    }

    /** Runs {@code hook} once, just before this connection's output is shut or the connection closed. */
    void beforeClientSeesEnd(Runnable hook) {
        beforeClientSeesEnd.set(hook);
    }

    /**
     * A FIN to the client ends the tunnel only when the client has finished sending too: when the upstream
     * half-closes first, the client may still send, and those bytes belong in the row, which is then journaled
     * when the connection closes.
     */
    @Override
    public void doShutdownOutput() {
        if (isInputShutdown()) {
            runBeforeEnd();
        }
        super.doShutdownOutput();
    }

    @Override
    public void doClose() {
        runBeforeEnd();
        super.doClose();
    }

    private void runBeforeEnd() {
        Runnable hook = beforeClientSeesEnd.getAndSet(null);
        if (hook != null) {
            try {
                hook.run();
            } catch (RuntimeException e) {
                LOG.warn("journaling a tunnel's record before its close failed", e);
            }
        }
    }

    /** As Jetty's fill, except that a failed read shuts the input and is thrown, not reported as -1. */
    @Override
    public int fill(ByteBuffer buffer) throws IOException {
        if (isInputShutdown()) {
            return -1;
        }
        int position = BufferUtil.flipToFill(buffer);
        try {
            int filled = getChannel().read(buffer);
            if (filled > 0) {
                notIdle();
            } else if (filled == -1) {
                shutdownInput();
            }
            return filled;
        } catch (IOException failure) {
            shutdownInput();
            throw failure;
        } finally {
            BufferUtil.flipToFlush(buffer, position);
        }
    }
}
