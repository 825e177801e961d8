package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogKeyTable;
import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.SummaryDelta;
import dev.tollgate.store.internal.SummaryTables;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * Keeps {@code access_log_key}, the host and client index of the access log, up to date, off the request
 * path: one background thread ({@value #THREAD_NAME}) that, every interval, reads the rows written since the
 * mark, sorts their keys (AccessLogKeyTable says what a key is) and inserts them in one statement, one entry for
 * each value the round saw (with the ids of its rows), with the new mark, in one transaction on its own
 * connection. A crash therefore leaves keys and mark in agreement, and the indexer catches up after a restart;
 * until then queries read the unindexed rows from access_log directly (see AccessLogReader).
 * <p>
 * The writer comes first: while it is behind (more than a batch queued) the thread skips its rounds, up to
 * {@value #MAX_DEFERRED_ROUNDS} intervals in a row, so that under a burst the whole machine goes to storing
 * rows, which the audit cannot do without, rather than to indexing them, which only makes queries faster.
 * On two cores the indexer running beside a saturated writer halved the writer's rate (docs/performance.md).
 * <p>
 * Ids must be committed in id order for "id > mark" to find every new row. On H2 they are: the store has one
 * writer thread, which takes its ids in the order it commits. PostgreSQL with several writers (several
 * daemons on one database, or one with a cached sequence) can commit id 11 before id 10; an indexer that ran
 * in between would move the mark past 10 and never index it. That setup would need the indexer to stay
 * behind the oldest open writer transaction (e.g. index only ids below the lowest id still in flight, which
 * the writers would have to publish, or rows older than a safe lag), and to re-check a window below the mark.
 * PostgreSQL does not need it anyway: there access_log has plain B-tree indexes on host and client
 * (db/migration/postgresql), and the store uses {@link #none()}, which indexes nothing.
 * <p>
 * A little past 400 lines: the mark, the pacing against the writer and the catch-up after a restart are one loop
 * over one connection, and its SQL sits in {@code AccessLogKeyTable} already.
 */
public final class KeyIndexer implements AutoCloseable {

    public static final String THREAD_NAME = "tollgate-key-indexer";
    /** The wait after a round that found nothing to index (an idle proxy polls once a second). */
    public static final long DEFAULT_INTERVAL_MS = 1_000;
    /**
     * The wait after a round that indexed rows, while rows arrive. Each round's keys dirty B-tree leaves of the
     * newest epoch (AccessLogKeyTable), and H2 rewrites every dirtied leaf at the next commit, so longer rounds
     * share each leaf among more keys: at 15,000 rows/s over 5,000 hosts (AccessLogSteadyLoad), writer and
     * indexer together cost 15.1 us per row with rounds of 200 ms, 21.6 with 50 ms and 22.4 with 25 ms (with
     * V5's keys: 43-47 against 61-64 us at 200 and 25 ms). Rounds of a whole second took a core for 100-200 ms at
     * a time and set the proxy's 99th percentile; 200 ms did not (docs/performance.md).
     */
    static final long BUSY_INTERVAL_MS = 200;
    /** Rows per round (one transaction), when catching up after a pause; under a steady load rounds are smaller. */
    public static final int DEFAULT_ROUND_ROWS = 10_000;
    /** Epochs of keys per statement when deleting keys for retention: 65,536 rows' keys at most. */
    static final int DELETE_WINDOW_EPOCHS = 4;
    private static final long CLOSE_TIMEOUT_MS = 30_000;
    /** Intervals in a row a round may wait for the writer: under a long overload the index still moves. */
    static final int MAX_DEFERRED_ROUNDS = 30;

    private static final Logger LOG = LoggerFactory.getLogger(KeyIndexer.class);

    private final String name;
    private final DataSource dataSource;
    private final long intervalMs;
    private final long busyIntervalMs;
    private final int roundRows;
    private final BooleanSupplier writerBehind;
    private final int maxDeferredRounds;
    // Rounds from the thread and from indexNow() must not run together: both would insert the same keys.
    private final Object roundLock = new Object();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    // False for none(): no thread, no table, every call a no-op.
    private final boolean active;
    private volatile long indexed;
    private volatile long deferredRounds;
    // The id below which deleteOrphanKeys last removed every key: it skips its scan until rows below a higher
    // id are gone. Touched by the purger's thread only.
    private long orphansDeletedBelow;
    private boolean warnedFull;

    KeyIndexer(String name, DataSource dataSource, long intervalMs, int roundRows, BooleanSupplier writerBehind,
               int maxDeferredRounds) {
        if (intervalMs < 1 || roundRows < 1) {
            throw new IllegalArgumentException("intervalMs " + intervalMs + " and roundRows " + roundRows
                    + " must be positive");
        }
        this.name = name;
        this.dataSource = dataSource;
        this.intervalMs = intervalMs;
        this.busyIntervalMs = Math.min(intervalMs, BUSY_INTERVAL_MS);
        this.roundRows = roundRows;
        this.writerBehind = writerBehind;
        this.maxDeferredRounds = maxDeferredRounds;
        this.active = dataSource != null;
        this.thread = new Thread(this::run, THREAD_NAME);
        // Daemon: indexing can always resume after a restart, so it must never keep the JVM alive.
        thread.setDaemon(true);
    }

    /**
     * Starts an indexer that looks for new rows every {@code intervalMs} while none arrive, every {@value
     * #BUSY_INTERVAL_MS} ms (at most {@code intervalMs}) while they do, and waits while {@code writerBehind} says
     * the writer needs the machine; {@code name} prefixes its log lines.
     */
    static KeyIndexer start(String name, DataSource dataSource, long intervalMs, BooleanSupplier writerBehind) {
        return start(new KeyIndexer(name, dataSource, intervalMs, DEFAULT_ROUND_ROWS, writerBehind,
                MAX_DEFERRED_ROUNDS));
    }

    /**
     * An indexer that indexes nothing, for a database whose own indexes serve host and client queries
     * (PostgreSQL): it starts no thread, and its methods do nothing and return 0.
     */
    public static KeyIndexer none() {
        return new KeyIndexer("none", null, DEFAULT_INTERVAL_MS, DEFAULT_ROUND_ROWS, () -> false, 0);
    }

    /** Whether this indexer keeps access_log_key (H2), so that queries may read it; false for {@link #none()}. */
    public boolean isActive() {
        return active;
    }

    /** Starts {@code indexer}'s thread. */
    static KeyIndexer start(KeyIndexer indexer) {
        indexer.thread.start();
        return indexer;
    }

    /**
     * Indexes every row committed so far, round after round, on the calling thread, and returns how many
     * rows it indexed. For tests and tools; the background thread does the same every interval.
     */
    public long indexNow() throws SQLException {
        if (!active) {
            return 0;
        }
        return indexRounds(() -> false);
    }

    /** Rows indexed since this indexer started, by the thread and by {@link #indexNow()}. */
    public long indexed() {
        return indexed;
    }

    /** Intervals the thread let pass without indexing because the writer was behind. */
    public long deferredRounds() {
        return deferredRounds;
    }

    /**
     * Deletes the key entries of rows with an id below {@code belowId} and returns how many it deleted. For
     * retention: call it after deleting those rows from access_log. Keys lead with their row's epoch (see
     * AccessLogKeyTable), so this deletes from the lowest key up: whole epochs, at most {@value
     * #DELETE_WINDOW_EPOCHS} in one transaction so that no transaction grows with the table, then, in {@code
     * belowId}'s own epoch, the entries whose rows are all below it (an entry with rows on both sides stays).
     * Keys whose row is gone are harmless meanwhile: queries look their rows up in access_log, which has none.
     */
    public long deleteKeysBelow(long belowId) throws SQLException {
        if (!active || belowId <= 0) {
            return 0;
        }
        long bound = Math.min(belowId, AccessLogKeyTable.MAX_ID + 1);
        long boundEpoch = AccessLogKeyTable.epochOf(bound);
        long deleted = 0;
        try (Connection c = dataSource.getConnection();
             PreparedStatement lowest = c.prepareStatement(AccessLogKeyTable.SELECT_LOWEST_KEY_SQL);
             PreparedStatement epochs = c.prepareStatement(AccessLogKeyTable.DELETE_RANGE_SQL);
             PreparedStatement below = c.prepareStatement(AccessLogKeyTable.DELETE_BELOW_SQL);
             PreparedStatement runs = c.prepareStatement(AccessLogKeyTable.SELECT_RUNS_BELOW_SQL);
             PreparedStatement entry = c.prepareStatement(AccessLogKeyTable.DELETE_ENTRY_SQL)) {
            c.setAutoCommit(true);
            // From the lowest key left, so that a gap in the ids costs one statement, not one per empty epoch.
            for (long epoch = lowestEpoch(lowest); epoch < boundEpoch; epoch = lowestEpoch(lowest)) {
                deleted += delete(epochs, epoch, Math.min(boundEpoch, epoch + DELETE_WINDOW_EPOCHS));
            }
            if (boundEpoch <= AccessLogKeyTable.LAST_EPOCH) {
                below.setLong(3, AccessLogKeyTable.withinEpoch(bound));
                deleted += delete(below, boundEpoch, boundEpoch + 1);
                deleted += deleteRunsBelow(runs, entry, boundEpoch, bound);
            }
        }
        return deleted;
    }

    /** Deletes the entries of several rows in {@code epoch} whose rows are all below {@code bound}. */
    private static long deleteRunsBelow(PreparedStatement runs, PreparedStatement entry, long epoch, long bound)
            throws SQLException {
        runs.setLong(1, AccessLogKeyTable.firstKeyOf(epoch));
        runs.setLong(2, AccessLogKeyTable.lastKeyBefore(epoch + 1));
        runs.setLong(3, AccessLogKeyTable.withinEpoch(bound));
        List<Long> gone = new ArrayList<>();
        try (ResultSet rs = runs.executeQuery()) {
            while (rs.next()) {
                long[] ids = AccessLogKeyTable.idsOf(rs.getLong(1), rs.getBytes(2));
                if (ids[ids.length - 1] < bound) {
                    gone.add(rs.getLong(1));
                }
            }
        }
        long deleted = 0;
        for (long k : gone) {
            entry.setLong(1, k);
            deleted += entry.executeUpdate();
        }
        return deleted;
    }

    /** The epoch of the lowest key, or Long.MAX_VALUE when there is none. */
    private static long lowestEpoch(PreparedStatement lowest) throws SQLException {
        try (ResultSet rs = lowest.executeQuery()) {
            rs.next();
            long key = rs.getLong(1);
            return rs.wasNull() ? Long.MAX_VALUE : AccessLogKeyTable.epochOfKey(key);
        }
    }

    /**
     * Runs {@code delete} (DELETE_RANGE_SQL, or DELETE_BELOW_SQL with its third parameter set) over epochs {@code
     * first} up to but not including {@code end}.
     */
    private static long delete(PreparedStatement delete, long first, long end) throws SQLException {
        delete.setLong(1, AccessLogKeyTable.firstKeyOf(first));
        delete.setLong(2, AccessLogKeyTable.lastKeyBefore(end));
        return delete.executeUpdate();
    }

    /**
     * Deletes the keys of rows that are gone: every key below the lowest id still in access_log (retention
     * deletes the oldest rows; a long tunnel's row may have a higher id than newer rows, so the lowest surviving
     * id, not the highest deleted one, is the safe bound). Does nothing when no row has gone since its last
     * run. Logs and returns 0 when it fails: orphan keys are harmless until the next try.
     */
    public long deleteOrphanKeys() {
        if (!active) {
            return 0;
        }
        try {
            long lowestRow;
            try (Connection c = dataSource.getConnection();
                 PreparedStatement select = c.prepareStatement("SELECT MIN(id) FROM access_log");
                 ResultSet rs = select.executeQuery()) {
                rs.next();
                lowestRow = rs.getLong(1);
                if (rs.wasNull()) {
                    lowestRow = Long.MAX_VALUE;
                }
            }
            if (lowestRow <= orphansDeletedBelow) {
                return 0;
            }
            long deleted = deleteKeysBelow(lowestRow);
            orphansDeletedBelow = lowestRow;
            return deleted;
        } catch (SQLException e) {
            LOG.warn("{} - deleting the keys of purged access-log rows failed; retried after the next purge", name,
                    e);
            return 0;
        }
    }

    /** Stops the thread, letting a round in progress finish. Calling it again does nothing. */
    @Override
    public void close() {
        stop.countDown();
        if (!active || Thread.currentThread() == thread) {
            return;
        }
        try {
            thread.join(CLOSE_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("{} - key indexer still busy after {} ms; left running as a daemon", name, CLOSE_TIMEOUT_MS);
        }
    }

    private void run() {
        LOG.info("{} - key indexer started (every {} ms while rows arrive, {} ms when idle, up to {} rows a round)",
                name, busyIntervalMs, intervalMs, roundRows);
        int deferredInARow = 0;
        long waitMs = intervalMs;
        while (!awaitStop(waitMs)) {
            waitMs = intervalMs;
            if (deferredInARow < maxDeferredRounds && writerBehind.getAsBoolean()) {
                // Deferrals are counted in whole intervals, so that a long overload still moves the index
                // every maxDeferredRounds intervals.
                deferredInARow++;
                deferredRounds++;
                continue;
            }
            deferredInARow = 0;
            try {
                if (indexRounds(writerBehind) > 0) {
                    waitMs = busyIntervalMs;
                }
            } catch (Throwable t) {
                // Everything: a dead indexer would leave every later row in the unindexed tail, and queries
                // would slowly turn into table scans. The next interval retries on a fresh connection.
                LOG.warn("{} - indexing the access log failed; retrying in {} ms", name, intervalMs, t);
            }
        }
        LOG.info("{} - key indexer stopped: {} rows indexed", name, indexed);
    }

    /**
     * Indexes round after round until a round finds fewer than roundRows rows (caught up) or, between rounds,
     * {@code yield} says to stop; returns how many rows it indexed.
     */
    private long indexRounds(BooleanSupplier yield) throws SQLException {
        synchronized (roundLock) {
            long total = 0;
            int round;
            do {
                round = indexOneRound();
                total += round;
            } while (round == roundRows && !yield.getAsBoolean());
            return total;
        }
    }

    /** Waits {@code waitMs}; true when close() was called. */
    private boolean awaitStop(long waitMs) {
        try {
            return stop.await(waitMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            // Only close() should stop the indexer; an interrupt from elsewhere is ignored.
            return stop.getCount() == 0;
        }
    }

    /**
     * One transaction: up to roundRows rows past the mark, their keys sorted and inserted as entries (one for each
     * value of the round), their ranks added to access_summary_key_hour (SummaryTables.ranksWithTheWriter says why
     * here), the mark moved.
     */
    private int indexOneRound() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                long mark = AccessLogKeyTable.mark(c, AccessLogKeyTable.SELECT_MARK_FOR_UPDATE_SQL);
                Keys keys = new Keys();
                SummaryDelta ranks = new SummaryDelta();
                long last = readUnindexed(c, mark, keys, ranks);
                if (keys.rows == 0) {
                    c.rollback();
                    return 0;
                }
                keys.sort();
                AccessLogKeyTable.insertKeys(c, keys.keys, keys.size);
                SummaryTables.add(c, DatabaseUrl.Vendor.H2, ranks);
                try (PreparedStatement update = c.prepareStatement(AccessLogKeyTable.UPDATE_MARK_SQL)) {
                    update.setLong(1, last);
                    update.executeUpdate();
                }
                c.commit();
                indexed += keys.rows;
                return keys.rows;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        }
    }

    /**
     * Adds the keys of up to roundRows rows after {@code mark} to {@code keys}, and the rows to {@code ranks}, and
     * returns the last row's id.
     * Stops before a row whose id no key can hold: such rows stay in the unindexed tail, which queries read
     * directly.
     */
    private long readUnindexed(Connection c, long mark, Keys keys, SummaryDelta ranks) throws SQLException {
        long last = mark;
        try (PreparedStatement select = c.prepareStatement(AccessLogKeyTable.SELECT_UNINDEXED_SQL)) {
            select.setLong(1, mark);
            select.setInt(2, roundRows);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    if (id > AccessLogKeyTable.MAX_ID) {
                        warnFullOnce(id);
                        break;
                    }
                    String host = rs.getString("host");
                    String client = rs.getString("client_addr");
                    ranks.addRanks(SummaryDelta.Row.read(rs));
                    if (host != null) {
                        keys.add(AccessLogKeyTable.key(AccessLogKeyTable.HOST, host, id));
                    }
                    if (client != null) {
                        keys.add(AccessLogKeyTable.key(AccessLogKeyTable.CLIENT, client, id));
                    }
                    keys.rows++;
                    last = id;
                }
            }
        }
        return last;
    }

    private void warnFullOnce(long id) {
        if (!warnedFull) {
            warnedFull = true;
            LOG.warn("{} - access-log id {} is beyond the highest a host or client key can hold ({}); later rows"
                    + " stay unindexed, and host or client queries read them one by one", name, id,
                    AccessLogKeyTable.MAX_ID);
        }
    }

    /** A round's keys, growing as its rows are read; sorted before they go in, so that they fill few pages. */
    private static final class Keys {
        private long[] keys = new long[1_024];
        private int size;
        private int rows;

        void add(long key) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, 2 * size);
            }
            keys[size++] = key;
        }

        void sort() {
            Arrays.sort(keys, 0, size);
        }
    }

    private void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            LOG.debug("{} - rollback after a failed indexing round failed too", name, e);
        }
    }
}
