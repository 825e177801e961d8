package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogKeyTable;
import dev.tollgate.store.internal.ChainHead;
import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.SummaryDelta;
import dev.tollgate.store.internal.SummaryTables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * Deletes the {@code access_log} rows older than {@code store.retentionDays}: one background thread
 * ({@value #THREAD_NAME}) purges shortly after start and then every period (an hour by default).
 * <p>
 * A purge deletes at most {@value #BATCH_SIZE} rows per transaction, each batch on a connection of its own,
 * oldest first, until a batch finds fewer: it never holds a long transaction, and the access-log writer, which
 * only inserts new rows, is never blocked by its locks. Between two batches it pauses as long as the last one
 * took, so that the purge has the database at most about half the time: without the pause, the writer's rate
 * fell to about a quarter during a purge (docs/access-log.md, "Retention"). Each batch subtracts the rows it deletes
 * from the roll-up tables in its own transaction ({@code SummaryTables}), so that they stay equal to a GROUP BY over
 * the rows left. Only {@code access_log} is purged;
 * {@code admin_event} (who changed what through the admin API) and {@code listener} are kept.
 * <p>
 * With {@code retentionDays} 0 the purger keeps everything: no thread, and {@link #purgeNow()} deletes
 * nothing, so that the daemon holds a purger either way.
 */
public final class RetentionPurger implements AutoCloseable {

    public static final String THREAD_NAME = "tollgate-retention";
    /** The most rows one transaction deletes (one JDBC batch of deletes by id). */
    public static final int BATCH_SIZE = 10_000;
    public static final long DEFAULT_PERIOD_MS = TimeUnit.HOURS.toMillis(1);
    /** The first purge waits this long (or one period, if shorter), so that start-up goes first. */
    public static final long FIRST_RUN_DELAY_MS = 10_000;
    static final long CLOSE_TIMEOUT_MS = 10_000;

    // Two steps, not DELETE ... WHERE id IN (SELECT ... FETCH FIRST n ROWS ONLY): H2 2.5 evaluates that
    // subquery again for every row it deletes, and one batch of 10,000 took over a minute. The select walks
    // the ts index from its oldest end; the deletes go by primary key. Both run unchanged on PostgreSQL.
    // The roll-up columns too: what a batch deletes, it subtracts from the roll-ups in the same transaction.
    private static final String SELECT_OLDEST_SQL = "SELECT id, node, seq, chain, " + SummaryDelta.COLUMNS
            + " FROM access_log WHERE ts < ? ORDER BY ts FETCH FIRST " + BATCH_SIZE + " ROWS ONLY";
    private static final String DELETE_SQL = "DELETE FROM access_log WHERE id = ?";

    private static final Logger LOG = LoggerFactory.getLogger(RetentionPurger.class);
    private static final Runnable NO_HOOK = () -> { };

    private final DataSource dataSource;
    private final int retentionDays;
    private final Pacing pacing;
    private final Clock clock;
    private final Runnable beforeCommit;
    private volatile Runnable afterPurge = NO_HOOK;
    private volatile ChainCheckpoints anchorSigner;
    private final ScheduledExecutorService thread;
    private final Object purging = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    // Counted down by close(): ends the pause between two batches at once.
    private final CountDownLatch closing = new CountDownLatch(1);

    private RetentionPurger(DataSource dataSource, int retentionDays, Pacing pacing, Clock clock,
                            Runnable beforeCommit, ScheduledExecutorService thread) {
        this.dataSource = dataSource;
        this.retentionDays = retentionDays;
        this.pacing = pacing;
        this.clock = clock;
        this.beforeCommit = beforeCommit;
        this.thread = thread;
    }

    /** Starts purging rows older than {@code retentionDays} (0: none, ever) every hour. */
    public static RetentionPurger start(DataSource dataSource, int retentionDays) {
        return start(dataSource, retentionDays, DEFAULT_PERIOD_MS);
    }

    /**
     * Starts purging rows older than {@code retentionDays} every {@code periodMs}, counted from the end of one
     * purge to the start of the next. With {@code retentionDays} 0, starts nothing and never deletes.
     *
     * @throws IllegalArgumentException when {@code retentionDays} is out of the range of
     *                                  {@link StoreConfig#retentionDays()} or {@code periodMs} is not positive
     */
    public static RetentionPurger start(DataSource dataSource, int retentionDays, long periodMs) {
        return start(dataSource, retentionDays, Pacing.every(periodMs), Clock.systemUTC(), NO_HOOK);
    }

    /**
     * As {@link #start(DataSource, int, long)}, for tests and the benchmark: their own pacing and clock, and a
     * hook that runs in every batch's transaction, after its deletes and before its commit.
     */
    static RetentionPurger start(DataSource dataSource, int retentionDays, Pacing pacing, Clock clock,
                                 Runnable beforeCommit) {
        Objects.requireNonNull(dataSource, "dataSource");
        if (retentionDays < 0 || retentionDays > StoreConfig.MAX_RETENTION_DAYS) {
            throw new IllegalArgumentException("retentionDays: " + retentionDays + " is out of range (0 to "
                    + StoreConfig.MAX_RETENTION_DAYS + ")");
        }
        if (retentionDays == 0) {
            LOG.info("retention - off (retentionDays 0): access-log rows are kept forever");
            return new RetentionPurger(dataSource, 0, pacing, clock, beforeCommit, null);
        }
        ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, THREAD_NAME);
            // Daemon: a purge that close() gave up on must not keep the JVM alive.
            t.setDaemon(true);
            return t;
        });
        RetentionPurger purger = new RetentionPurger(dataSource, retentionDays, pacing, clock, beforeCommit, thread);
        thread.scheduleWithFixedDelay(purger::purgeOnSchedule, pacing.firstDelayMs(), pacing.periodMs(),
                TimeUnit.MILLISECONDS);
        LOG.info("retention - deleting access-log rows older than {} days every {} ms, first in {} ms",
                retentionDays, pacing.periodMs(), pacing.firstDelayMs());
        return purger;
    }

    /**
     * Deletes every row older than now minus {@code retentionDays}, in batches, on the caller's thread; waits
     * for a purge already running to finish first. The background thread calls this on its schedule; tests and
     * tools may call it any time. Logs one INFO line when it deleted something. A close() during the purge, or
     * an interrupt of the caller's thread, stops it after the current batch.
     *
     * @return the rows deleted; 0 with {@code retentionDays} 0 or once closed
     * @throws SQLException when a batch fails; the batches before it stay deleted, and are logged
     */
    public long purgeNow() throws SQLException {
        if (thread == null) {
            return 0;
        }
        synchronized (purging) {
            // Whole milliseconds, as ts is stored: the log line then names the exact boundary.
            Instant cutoff = clock.instant().minus(Duration.ofDays(retentionDays)).truncatedTo(ChronoUnit.MILLIS);
            long startNanos = System.nanoTime();
            long deleted = 0;
            int batches = 0;
            try {
                long[] ids = new long[BATCH_SIZE];
                SummaryDelta.Row[] counted = new SummaryDelta.Row[BATCH_SIZE];
                List<Chained> chained = new ArrayList<>();
                boolean more = !closed.get();
                while (more) {
                    long batchStartNanos = System.nanoTime();
                    int found;
                    try (Connection c = dataSource.getConnection()) {
                        found = selectOldest(c, cutoff, ids, counted, chained);
                        deleted += found == 0 ? 0 : delete(c, ids, counted, found, chained);
                    }
                    batches++;
                    more = found == BATCH_SIZE && pauseForTheWriter(System.nanoTime() - batchStartNanos);
                }
            } finally {
                if (deleted > 0) {
                    afterPurge.run();
                    LOG.info("retention - deleted {} access-log rows older than {} ({} {}, {} ms)", deleted, cutoff,
                            batches, batches == 1 ? "batch" : "batches",
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
                }
            }
            return deleted;
        }
    }

    /**
     * Runs {@code hook} after each purge that deleted rows, on the purging thread: the store's key index drops
     * the keys of the rows that went.
     */
    public RetentionPurger afterEachPurge(Runnable hook) {
        this.afterPurge = Objects.requireNonNull(hook, "hook");
        return this;
    }

    /**
     * Makes each batch sign, before it deletes (committed first, so that a failed delete leaves an anchor of a row
     * still there, which is harmless), an anchor checkpoint for every chained row it deletes whose successor in its
     * node's chain it does not delete (docs/access-log.md, "Tamper evidence"): the chain of the first row after a
     * purged run can then still be checked, and {@code tollgate verify} tells the purge from a deletion by hand.
     * Without a signer (tests, the benchmark) no anchor is made.
     */
    public RetentionPurger signAnchorsWith(ChainCheckpoints signer) {
        this.anchorSigner = Objects.requireNonNull(signer, "signer");
        return this;
    }

    /**
     * Stops the schedule and waits, up to {@value #CLOSE_TIMEOUT_MS} ms, for a running purge to finish its
     * current batch; says so if it does not. Calling it again does nothing.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true) || thread == null) {
            return;
        }
        closing.countDown();
        // No interrupt: an interrupted H2 statement may close the database file under the writer.
        thread.shutdown();
        try {
            if (!thread.awaitTermination(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                LOG.warn("retention - a purge was still running {} ms after close; leaving it to finish its batch",
                        CLOSE_TIMEOUT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("retention - stopped");
    }

    private void purgeOnSchedule() {
        try {
            purgeNow();
        } catch (Throwable t) {
            // Everything, errors included: an exception would end the schedule, and old rows would pile up.
            LOG.warn("retention - purging old access-log rows failed; trying again in the next period", t);
        }
    }

    /** Waits {@code nanos}, leaving the database to the writer; false when closed or interrupted meanwhile. */
    private boolean pauseForTheWriter(long nanos) {
        if (!pacing.pauseBetweenBatches()) {
            return !closed.get();
        }
        try {
            return !closing.await(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A chained row a batch deletes. */
    private record Chained(String node, long seq, byte[] chain) {
    }

    /**
     * Fills {@code ids} with the oldest rows before {@code cutoff}, {@code counted} with what their roll-ups count,
     * and {@code chained} with those that have a chain; returns how many it found.
     */
    private static int selectOldest(Connection c, Instant cutoff, long[] ids, SummaryDelta.Row[] counted,
                                    List<Chained> chained) throws SQLException {
        chained.clear();
        try (PreparedStatement select = c.prepareStatement(SELECT_OLDEST_SQL)) {
            select.setObject(1, OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC));
            int found = 0;
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    counted[found] = SummaryDelta.Row.read(rs);
                    ids[found++] = rs.getLong(1);
                    long seq = rs.getLong(3);
                    byte[] chain = rs.wasNull() ? null : rs.getBytes(4);
                    if (chain != null) {
                        chained.add(new Chained(rs.getString(2), seq, chain));
                    }
                }
            }
            return found;
        }
    }

    /**
     * Signs an anchor for each row of {@code chained} whose successor (the next number of its node) the batch does
     * not delete. Rows are deleted by age, not by number, so a long tunnel's row, old when its neighbours in the
     * chain are not, leaves a hole with an anchor of its own; an anchor whose successor a later batch deletes too is
     * merely not needed.
     */
    private void signAnchors(List<Chained> chained) throws SQLException {
        ChainCheckpoints signer = anchorSigner;
        if (signer == null || chained.isEmpty()) {
            return;
        }
        Set<String> deleted = new HashSet<>();
        for (Chained r : chained) {
            deleted.add(r.seq() + "@" + r.node());
        }
        List<ChainCheckpoints.Head> anchors = new ArrayList<>();
        for (Chained r : chained) {
            if (!deleted.contains((r.seq() + 1) + "@" + r.node())) {
                anchors.add(new ChainCheckpoints.Head(ChainCheckpoints.ACCESS_LOG, r.node(),
                        new ChainHead(r.seq(), r.chain())));
            }
        }
        signer.sign(dataSource, anchors, clock.instant(), ChainCheckpoints.Reason.RETENTION);
    }

    /**
     * Deletes the first {@code count} of {@code ids} in one transaction, after signing the anchors of
     * {@code chained}, and subtracts the rows that went ({@code counted}) from the roll-ups in the same transaction,
     * so that they still equal a GROUP BY over the rows left; returns how many rows went.
     */
    private int delete(Connection c, long[] ids, SummaryDelta.Row[] counted, int count, List<Chained> chained)
            throws SQLException {
        signAnchors(chained);
        c.setAutoCommit(false);
        try (PreparedStatement delete = c.prepareStatement(DELETE_SQL)) {
            for (int i = 0; i < count; i++) {
                delete.setLong(1, ids[i]);
                delete.addBatch();
            }
            int deleted = 0;
            int[] counts = delete.executeBatch();
            long rankedUpTo = rankedUpTo(c);
            SummaryDelta gone = new SummaryDelta();
            for (int i = 0; i < count; i++) {
                // A row another node's purger deleted first counts 0 (and was subtracted by that purge);
                // SUCCESS_NO_INFO (-2) counts as one.
                if (counts[i] != 0) {
                    deleted++;
                    gone.subtract(counted[i], ids[i] <= rankedUpTo);
                }
            }
            SummaryTables.subtract(c, gone);
            beforeCommit.run();
            c.commit();
            return deleted;
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException rollbackFailed) {
                e.addSuppressed(rollbackFailed);
            }
            throw e;
        }
    }

    /**
     * The highest id whose row the ranks (access_summary_key_hour) count: every id on PostgreSQL, where the writer
     * ranks its rows; on H2, the key indexer's mark (SummaryTables.ranksWithTheWriter), read FOR UPDATE so that no
     * round of the indexer moves it until this batch commits. A row above it is deleted before the indexer ranks it,
     * so it is never ranked and must not be subtracted. Read after the deletes, so the lock is held only for the
     * subtraction and the commit.
     */
    private static long rankedUpTo(Connection c) throws SQLException {
        if (SummaryTables.ranksWithTheWriter(DatabaseUrl.vendorOf(c.getMetaData().getURL()))) {
            return Long.MAX_VALUE;
        }
        return AccessLogKeyTable.mark(c, AccessLogKeyTable.SELECT_MARK_FOR_UPDATE_SQL);
    }

    /**
     * When purges run and whether they pause between batches. The daemon's is {@link #every}; tests and the
     * benchmark use {@link #onlyWhenAsked} and call {@link #purgeNow()} themselves.
     *
     * @param firstDelayMs        from start to the first purge
     * @param periodMs            from the end of one purge to the start of the next
     * @param pauseBetweenBatches whether a purge waits as long as its last batch took before the next one
     */
    record Pacing(long firstDelayMs, long periodMs, boolean pauseBetweenBatches) {

        // Longer than any test or benchmark run.
        private static final long NOT_WITHIN_A_RUN_MS = TimeUnit.DAYS.toMillis(1);

        Pacing {
            if (firstDelayMs < 0) {
                throw new IllegalArgumentException("firstDelayMs: " + firstDelayMs + " is negative");
            }
            if (periodMs <= 0) {
                throw new IllegalArgumentException("periodMs: " + periodMs + " must be positive");
            }
        }

        /** Every {@code periodMs}, the first after {@link #FIRST_RUN_DELAY_MS} or one period if shorter. */
        static Pacing every(long periodMs) {
            return new Pacing(Math.min(FIRST_RUN_DELAY_MS, Math.max(0, periodMs)), periodMs, true);
        }

        /** No purge but those asked for with {@link #purgeNow()}. */
        static Pacing onlyWhenAsked(boolean pauseBetweenBatches) {
            return new Pacing(NOT_WITHIN_A_RUN_MS, NOT_WITHIN_A_RUN_MS, pauseBetweenBatches);
        }
    }
}
