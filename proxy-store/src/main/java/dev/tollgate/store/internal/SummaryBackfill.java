package dev.tollgate.store.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * Fills the roll-up tables ({@code V11__access_summary.sql}) from the rows access_log holds: what migration V12
 * does to a log stored before the roll-ups existed, and what the benchmark's preload does after writing its rows
 * around the writer. Expects the roll-ups empty; runs in the caller's transaction and does not commit.
 * <p>
 * The work is a GROUP BY inside the database, one UTC day of access_log at a time (the day's rows found through
 * the ts index): a day's buckets never straddle two days, so each day's sums are plain INSERTs, and the database
 * holds one day's groups in memory at a time, not 30 days' (H2 groups in memory). The SQL says what
 * {@link SummaryDelta} says in Java; the only difference between the databases is the bucket's expression.
 */
public final class SummaryBackfill {

    private static final Logger LOG = LoggerFactory.getLogger(SummaryBackfill.class);
    private static final long DAY_MS = 24 * SummaryDelta.HOUR_MS;

    private static final String STATUS_CLASS =
            "CASE WHEN status >= 100 AND status < 600 THEN status / 100 ELSE 0 END";
    private static final String IN_RANGE = " WHERE ts >= ? AND ts < ?";
    private static final String SUMS = "COUNT(*), COALESCE(SUM(bytes_from_client), 0), COALESCE(SUM(bytes_to_client), 0)";

    private SummaryBackfill() {
    }

    /**
     * Adds every row of access_log to the roll-ups, day by day from the oldest.
     *
     * @return the access_log rows counted
     */
    public static long run(Connection c, DatabaseUrl.Vendor vendor) throws SQLException {
        long first;
        long last;
        long rows;
        try (PreparedStatement range = c.prepareStatement("SELECT MIN(ts), MAX(ts), COUNT(*) FROM access_log");
             ResultSet rs = range.executeQuery()) {
            rs.next();
            OffsetDateTime min = rs.getObject(1, OffsetDateTime.class);
            if (min == null) {
                return 0;
            }
            first = min.toInstant().toEpochMilli();
            last = rs.getObject(2, OffsetDateTime.class).toInstant().toEpochMilli();
            rows = rs.getLong(3);
        }
        List<String> statements = statements(vendor);
        long started = System.nanoTime();
        for (long day = SummaryDelta.floor(first, DAY_MS); day <= last; day += DAY_MS) {
            for (String sql : statements) {
                try (PreparedStatement insert = c.prepareStatement(sql)) {
                    insert.setObject(1, SummaryTables.timestamp(day));
                    insert.setObject(2, SummaryTables.timestamp(day + DAY_MS));
                    insert.executeUpdate();
                }
            }
        }
        LOG.info("access-log roll-ups filled from {} rows in {} ms", rows, (System.nanoTime() - started) / 1_000_000);
        return rows;
    }

    /** The INSERT ... SELECT of each roll-up for one day: parameters, the day's start and end. */
    static List<String> statements(DatabaseUrl.Vendor vendor) {
        String minute = bucket(vendor, SummaryDelta.MINUTE_MS / 1000);
        String hour = bucket(vendor, SummaryDelta.HOUR_MS / 1000);
        String reason = "CASE WHEN reason IS NULL THEN outcome ELSE outcome || ': ' || reason END";
        // On H2 the key indexer ranks the rows above its mark as it indexes them (SummaryTables.ranksWithTheWriter).
        String ranked = SummaryTables.ranksWithTheWriter(vendor) ? ""
                : " AND id <= (SELECT id FROM access_log_key_mark)";
        // A day's rows through the ts index: given a condition on id too, H2's planner walks the primary key
        // instead, the whole table for every day (the first backfill of a million rows ran for minutes).
        String from = vendor == DatabaseUrl.Vendor.H2 ? " FROM access_log USE INDEX (access_log_ts_idx)"
                : " FROM access_log";
        return List.of(
                series(SummaryTables.MINUTE, minute, from),
                series(SummaryTables.HOUR, hour, from),
                rank(SummaryDelta.HOST, "host", hour, from, ranked),
                rank(SummaryDelta.CLIENT, "client_addr", hour, from, ranked),
                rank(SummaryDelta.USER, "username", hour, from, ranked),
                rank(SummaryDelta.REASON, reason, hour, from, ranked + " AND outcome <> 'OK'"));
    }

    private static String series(String table, String bucket, String from) {
        return "INSERT INTO " + table + " (bucket, kind, outcome, status_class, requests, bytes_from_client,"
                + " bytes_to_client) SELECT b, kind, outcome, sc, " + SUMS + " FROM (SELECT " + bucket + " AS b, kind,"
                + " outcome, " + STATUS_CLASS + " AS sc, bytes_from_client, bytes_to_client" + from + IN_RANGE + ") r"
                + " GROUP BY b, kind, outcome, sc";
    }

    private static String rank(String dim, String value, String hour, String from, String condition) {
        return "INSERT INTO " + SummaryTables.KEY_HOUR + " (dim, bucket, key_value, requests, bytes_from_client,"
                + " bytes_to_client) SELECT '" + dim + "', b, v, " + SUMS + " FROM (SELECT " + hour + " AS b,"
                + " SUBSTRING(" + value + " FROM 1 FOR " + SummaryDelta.KEY_WIDTH + ") AS v, bytes_from_client,"
                + " bytes_to_client" + from + IN_RANGE + condition + ") r WHERE v IS NOT NULL GROUP BY b, v";
    }

    /**
     * The start of the {@code seconds}-long UTC bucket that holds a row's ts, from its epoch seconds: not
     * DATE_TRUNC, which on PostgreSQL truncates in the session's time zone (an hour of a +05:30 zone is not a UTC
     * hour).
     */
    private static String bucket(DatabaseUrl.Vendor vendor, long seconds) {
        String start = "FLOOR(EXTRACT(EPOCH FROM ts) / " + seconds + ") * " + seconds;
        return vendor == DatabaseUrl.Vendor.POSTGRESQL
                ? "TO_TIMESTAMP(" + start + ")"
                : "DATEADD(SECOND, " + start + ", TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00')";
    }
}
