package dev.tollgate.daemon.proxy;

import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.thread.Scheduler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The endpoint of a tunnel's upstream connection, and of every client connection ({@link
 * ResetReportingConnector}). Jetty's {@link SocketChannelEndPoint#fill} turns a failed
 * read (a TCP reset: "Connection reset") into an ordinary end of stream, so a tunnel whose upstream aborted
 * would be recorded as having ended cleanly. This one fills the same way but lets the failure through, so that
 * the tunnel closes with it as the cause and its row says UPSTREAM_RESET. Check it on each Jetty upgrade.
 */
final class ResetReportingEndPoint extends SocketChannelEndPoint {

    ResetReportingEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler) {
        super(channel, selector, key, scheduler);
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
