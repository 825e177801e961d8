package dev.tollgate.store.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;

/**
 * Fills the roll-up tables ({@code V11__access_summary.sql}, {@code V13__access_summary_key_day.sql}) from the
 * rows access_log holds: what migration V12 does to a log stored before the roll-ups existed, and what the
 * benchmark's preload does after writing its rows around the writer. Expects the roll-ups empty; runs in the
 * caller's transaction and does not commit.
 * <p>
 * One UTC day of access_log at a time, read once through the ts index and summed in memory by {@link SummaryDelta},
 * the writer's own code, then upserted as the writer does: a day's buckets never straddle two days, so memory holds
 * one day's sums (at most about 1,440 minutes x the kinds, outcomes and classes seen, and 24 hours x the distinct
 * hosts, clients, users and reasons), whatever the size of the log. The first form, six INSERT ... SELECT ... GROUP
 * BY per day, read every row six times and took 84 s for a million rows; this one reads it once.
 * <p>
 * On H2 the ranks count only the rows up to the key indexer's mark: the indexer ranks the rest as it indexes them
 * ({@link SummaryTables#ranksWithTheWriter}).
 */
public final class SummaryBackfill {

    private static final Logger LOG = LoggerFactory.getLogger(SummaryBackfill.class);
    private static final long DAY_MS = SummaryDelta.DAY_MS;
    /** Rows the PostgreSQL driver fetches at a time (H2 reads lazily). */
    private static final int FETCH_SIZE = 10_000;

    private SummaryBackfill() {
    }

    /**
     * Adds every row of access_log to the roll-ups, day by day from the oldest: all four tables (the day ranks for
     * the sealed days, {@link SealedDays}), as the benchmark's preload wants them.
     *
     * @return the access_log rows counted
     */
    public static long run(Connection c, DatabaseUrl.Vendor vendor) throws SQLException {
        return run(c, vendor, true);
    }

    /**
     * As {@link #run}, but the tables of V11 alone: what migration V12 fills, before V13 made
     * access_summary_key_day (which V14 fills from access_summary_key_hour, {@link SealedDays#sealFromTheOldest}).
     */
    public static long runAsOfV12(Connection c, DatabaseUrl.Vendor vendor) throws SQLException {
        return run(c, vendor, false);
    }

    private static long run(Connection c, DatabaseUrl.Vendor vendor, boolean dayRanks) throws SQLException {
        long first;
        long last;
        try (PreparedStatement range = c.prepareStatement("SELECT MIN(ts), MAX(ts) FROM access_log");
             ResultSet rs = range.executeQuery()) {
            rs.next();
            OffsetDateTime min = rs.getObject(1, OffsetDateTime.class);
            if (min == null) {
                return 0;
            }
            first = min.toInstant().toEpochMilli();
            last = rs.getObject(2, OffsetDateTime.class).toInstant().toEpochMilli();
        }
        long rankedUpTo = SummaryTables.ranksWithTheWriter(vendor) ? Long.MAX_VALUE
                : AccessLogKeyTable.mark(c, AccessLogKeyTable.SELECT_MARK_SQL);
        // Through the ts index, named on H2: its planner may take the primary key for a range of ts otherwise.
        String sql = "SELECT id, " + SummaryDelta.COLUMNS + " FROM access_log"
                + (vendor == DatabaseUrl.Vendor.H2 ? " USE INDEX (access_log_ts_idx)" : "")
                + " WHERE ts >= ? AND ts < ?";
        long rows = 0;
        long started = System.nanoTime();
        try (PreparedStatement select = c.prepareStatement(sql)) {
            select.setFetchSize(FETCH_SIZE);
            for (long day = SummaryDelta.floor(first, DAY_MS); day <= last; day += DAY_MS) {
                select.setObject(1, SummaryTables.timestamp(day));
                select.setObject(2, SummaryTables.timestamp(day + DAY_MS));
                SummaryDelta delta = new SummaryDelta();
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        delta.add(SummaryDelta.Row.read(rs), rs.getLong("id") <= rankedUpTo);
                        rows++;
                    }
                }
                SummaryTables.add(c, vendor, delta, dayRanks);
            }
        }
        LOG.info("access-log roll-ups filled from {} rows in {} ms", rows, (System.nanoTime() - started) / 1_000_000);
        return rows;
    }
}
