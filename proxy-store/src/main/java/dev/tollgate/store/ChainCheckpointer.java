package dev.tollgate.store;

import dev.tollgate.store.ChainCheckpoints.Reason;
import dev.tollgate.store.internal.ChainHead;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * Signs a checkpoint of the node's chain head ({@link ChainCheckpoints}) every interval, on one thread
 * ({@value #THREAD_NAME}), when the writer has committed rows since the last one, and once more at {@link #close()}
 * (the access log closes it after its writer, so the last checkpoint covers the last row). The head signed is the
 * writer's own, as it computed it, never one read back from the database, which someone may have rewritten.
 */
public final class ChainCheckpointer implements AutoCloseable {

    public static final String THREAD_NAME = "tollgate-checkpoints";

    private static final Logger LOG = LoggerFactory.getLogger(ChainCheckpointer.class);

    private final DataSource dataSource;
    private final AccessLogWriter writer;
    private final ChainCheckpoints signer;
    private final String node;
    private final Clock clock;
    private final ScheduledExecutorService thread;
    private final Object writing = new Object();
    private long lastSeq;
    private boolean closed;

    private ChainCheckpointer(DataSource dataSource, AccessLogWriter writer, ChainCheckpoints signer, String node,
                              Clock clock, ScheduledExecutorService thread) {
        this.dataSource = dataSource;
        this.writer = writer;
        this.signer = signer;
        this.node = node;
        this.clock = clock;
        this.thread = thread;
    }

    /** Starts signing {@code writer}'s head every {@code intervalSeconds} (at least 1). */
    static ChainCheckpointer start(DataSource dataSource, AccessLogWriter writer, ChainCheckpoints signer,
                                   String node, long intervalSeconds) {
        ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, THREAD_NAME);
            t.setDaemon(true);
            return t;
        });
        ChainCheckpointer checkpointer = new ChainCheckpointer(dataSource, writer, signer, node, Clock.systemUTC(),
                thread);
        thread.scheduleWithFixedDelay(checkpointer::onSchedule, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
        LOG.info("checkpoints - signing the access log's chain head every {} s", intervalSeconds);
        return checkpointer;
    }

    /**
     * Signs and stores a checkpoint of the writer's head now, unless it did for this head already.
     *
     * @return whether it wrote one
     */
    public boolean checkpointNow(Reason reason) throws SQLException {
        synchronized (writing) {
            ChainHead head = writer.committedHead();
            if (head == null || head.seq() == lastSeq) {
                return false;
            }
            signer.sign(dataSource, List.of(new ChainCheckpoints.Head(ChainCheckpoints.ACCESS_LOG, node, head)),
                    clock.instant(), reason);
            lastSeq = head.seq();
            return true;
        }
    }

    private void onSchedule() {
        try {
            checkpointNow(Reason.INTERVAL);
        } catch (Throwable t) {
            // Everything: an exception would end the schedule. The next interval tries again.
            LOG.warn("checkpoints - signing the chain head failed; trying again at the next interval", t);
        }
    }

    /** Stops the schedule; the access log calls {@link #checkpointNow} with STOP after its writer closed. */
    @Override
    public void close() {
        synchronized (writing) {
            if (closed) {
                return;
            }
            closed = true;
        }
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
