package dev.tollgate.store.internal;

import dev.tollgate.store.internal.SummaryDelta.RankKey;
import dev.tollgate.store.internal.SummaryDelta.SeriesKey;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;

/**
 * The roll-up tables of {@code V11__access_summary.sql} and {@code V13__access_summary_key_day.sql} as the writer
 * and retention change them: a {@link SummaryDelta} applied in the caller's transaction, one batched statement per
 * table, so that the roll-ups move with the rows they count or not at all. Nothing here commits.
 * <p>
 * access_summary_key_day is changed wherever access_summary_key_hour is, by the same rows in the same transaction
 * ({@link SummaryDelta#dayRanks()}), for the days it holds: the sealed ones ({@link SealedDays}). A sealed day's
 * rows stay the sum of its hour rows at every commit, whether the rows are new, late (a journal replay stores rows
 * of past days) or purged; the day in progress is counted in the hour table alone until it is sealed.
 * <p>
 * Adding is an upsert: H2's standard {@code MERGE ... USING}, PostgreSQL's {@code INSERT ... ON CONFLICT DO
 * UPDATE}, which also lets two nodes' writers add to the same bucket at once (the second waits for the first's row
 * lock and adds to what it committed). Subtracting (retention) is an UPDATE, then a DELETE of the rows it brought to
 * zero requests: a bucket whose rows are all purged leaves no row behind.
 */
public final class SummaryTables {

    public static final String MINUTE = "access_summary_minute";
    public static final String HOUR = "access_summary_hour";
    public static final String KEY_HOUR = "access_summary_key_hour";
    public static final String KEY_DAY = "access_summary_key_day";

    private static final String SERIES_KEY = "bucket, kind, outcome, status_class";
    private static final String KEY_KEY = "dim, bucket, key_value";
    private static final String SUMS = "requests, bytes_from_client, bytes_to_client";

    private SummaryTables() {
    }

    /**
     * Whether the writer adds its rows to access_summary_key_hour in its own transaction (PostgreSQL), or the key
     * indexer does, in the transaction that moves its mark (H2), so that on H2 the ranks count the rows up to
     * {@code access_log_key_mark}, about a second behind the writer.
     * <p>
     * Why: a batch's hosts and clients are spread all over the current hour's part of that table, and H2 rewrites
     * every B-tree leaf a commit dirtied, whole, at every durable commit (the reason for the key indexer itself, see
     * V5). Ranked by the writer, one commit of 500 rows per batch, the bytes H2 wrote per stored row went from 241
     * to 657 (KeyIndexBytesWrittenIT, 5,000 hosts); a key-indexer round commits once for a second's rows. PostgreSQL
     * changes the pages in place in its shared buffers and has no key indexer (several writers break its mark).
     */
    public static boolean ranksWithTheWriter(DatabaseUrl.Vendor vendor) {
        return vendor == DatabaseUrl.Vendor.POSTGRESQL;
    }

    /** Adds {@code delta} to the tables it counted rows for, in the caller's transaction. */
    public static void add(Connection c, DatabaseUrl.Vendor vendor, SummaryDelta delta) throws SQLException {
        add(c, vendor, delta, true);
    }

    /**
     * As {@link #add(Connection, DatabaseUrl.Vendor, SummaryDelta)}, but leaving access_summary_key_day out when not
     * {@code dayRanks}: migration V12 runs before V13 made that table, and V14 then fills it from the hour ranks.
     */
    static void add(Connection c, DatabaseUrl.Vendor vendor, SummaryDelta delta, boolean dayRanks)
            throws SQLException {
        if (!delta.minutes().isEmpty()) {
            try (PreparedStatement minutes = c.prepareStatement(upsertSql(vendor, MINUTE, SERIES_KEY));
                 PreparedStatement hours = c.prepareStatement(upsertSql(vendor, HOUR, SERIES_KEY))) {
                executeSeries(minutes, delta.minutes(), Sums.AFTER_KEY);
                executeSeries(hours, delta.hours(), Sums.AFTER_KEY);
            }
        }
        if (delta.ranks().isEmpty()) {
            return;
        }
        // The mark before the hour ranks: a seal it makes sums the hour ranks without this delta's rows, which
        // then go to both tables; and on PostgreSQL every transaction takes it after the series' rows and before
        // any rank's, so that a seal waiting for it closes no cycle of waits (SealedDays).
        Map<RankKey, long[]> sealed = dayRanks
                ? sealedOnly(delta.dayRanks(), SealedDays.forRanks(c, vendor, System.currentTimeMillis()))
                : Map.of();
        try (PreparedStatement ranks = c.prepareStatement(upsertSql(vendor, KEY_HOUR, KEY_KEY))) {
            executeRanks(ranks, delta.ranks(), Sums.AFTER_KEY);
        }
        if (!sealed.isEmpty()) {
            try (PreparedStatement days = c.prepareStatement(upsertSql(vendor, KEY_DAY, KEY_KEY))) {
                executeRanks(days, sealed, Sums.AFTER_KEY);
            }
        }
    }

    /**
     * Takes {@code delta}, made of purged rows with sign -1, away from the four tables in the caller's transaction,
     * and deletes the roll-up rows left with no request.
     */
    public static void subtract(Connection c, SummaryDelta delta) throws SQLException {
        subtractSeries(c, MINUTE, delta.minutes());
        subtractSeries(c, HOUR, delta.hours());
        if (delta.ranks().isEmpty()) {
            return;
        }
        // The mark after the series' rows and before the ranks', as add() takes it.
        Map<RankKey, long[]> sealed = sealedOnly(delta.dayRanks(),
                SealedDays.forSubtracting(c, DatabaseUrl.vendorOf(c.getMetaData().getURL())));
        subtractRanks(c, KEY_HOUR, delta.ranks());
        subtractRanks(c, KEY_DAY, sealed);
    }

    /** The day ranks of {@code sums} for the days before {@code sealedUntil}, the days the day table holds. */
    private static Map<RankKey, long[]> sealedOnly(Map<RankKey, long[]> sums, long sealedUntil) {
        Map<RankKey, long[]> sealed = new TreeMap<>(SummaryDelta.RANK_ORDER);
        sums.forEach((key, sum) -> {
            if (key.bucketMs() < sealedUntil) {
                sealed.put(key, sum);
            }
        });
        return sealed;
    }

    private static void subtractRanks(Connection c, String table, Map<RankKey, long[]> sums) throws SQLException {
        if (sums.isEmpty()) {
            return;
        }
        try (PreparedStatement update = c.prepareStatement(subtractSql(table, KEY_KEY));
             PreparedStatement delete = c.prepareStatement(deleteEmptySql(table, KEY_KEY))) {
            executeRanks(update, sums, Sums.BEFORE_KEY);
            executeRanks(delete, sums, Sums.NONE);
        }
    }

    private static void subtractSeries(Connection c, String table, Map<SeriesKey, long[]> sums) throws SQLException {
        if (sums.isEmpty()) {
            return;
        }
        try (PreparedStatement update = c.prepareStatement(subtractSql(table, SERIES_KEY));
             PreparedStatement delete = c.prepareStatement(deleteEmptySql(table, SERIES_KEY))) {
            executeSeries(update, sums, Sums.BEFORE_KEY);
            executeSeries(delete, sums, Sums.NONE);
        }
    }

    /** The upsert of one row of {@code table}: the key's columns, then the three sums, as parameters. */
    static String upsertSql(DatabaseUrl.Vendor vendor, String table, String key) {
        String columns = key + ", " + SUMS;
        String placeholders = "?, ".repeat(columns.split(", ").length - 1) + "?";
        if (vendor == DatabaseUrl.Vendor.POSTGRESQL) {
            return "INSERT INTO " + table + " (" + columns + ") VALUES (" + placeholders + ") ON CONFLICT (" + key
                    + ") DO UPDATE SET requests = " + table + ".requests + EXCLUDED.requests, bytes_from_client = "
                    + table + ".bytes_from_client + EXCLUDED.bytes_from_client, bytes_to_client = " + table
                    + ".bytes_to_client + EXCLUDED.bytes_to_client";
        }
        StringBuilder on = new StringBuilder();
        for (String column : key.split(", ")) {
            on.append(on.length() == 0 ? "" : " AND ").append("t.").append(column).append(" = d.").append(column);
        }
        // The CASTs give the VALUES row its columns' types: H2 cannot tell them from bare parameters.
        return "MERGE INTO " + table + " t USING (VALUES (" + typedPlaceholders(key) + ", CAST(? AS BIGINT),"
                + " CAST(? AS BIGINT), CAST(? AS BIGINT))) AS d (" + columns + ") ON " + on
                + " WHEN MATCHED THEN UPDATE SET requests = t.requests + d.requests,"
                + " bytes_from_client = t.bytes_from_client + d.bytes_from_client,"
                + " bytes_to_client = t.bytes_to_client + d.bytes_to_client"
                + " WHEN NOT MATCHED THEN INSERT (" + columns + ") VALUES (d." + columns.replace(", ", ", d.") + ")";
    }

    private static String typedPlaceholders(String key) {
        return key.equals(SERIES_KEY)
                ? "CAST(? AS TIMESTAMP(3) WITH TIME ZONE), CAST(? AS VARCHAR(16)), CAST(? AS VARCHAR(32)),"
                        + " CAST(? AS INT)"
                : "CAST(? AS CHAR(1)), CAST(? AS TIMESTAMP(3) WITH TIME ZONE), CAST(? AS VARCHAR(255))";
    }

    /** Subtracts the three sums (given as negative numbers, a purge's delta) from one row; key parameters last. */
    private static String subtractSql(String table, String key) {
        return "UPDATE " + table + " SET requests = requests + ?, bytes_from_client = bytes_from_client + ?,"
                + " bytes_to_client = bytes_to_client + ? WHERE " + key.replace(", ", " = ? AND ") + " = ?";
    }

    private static String deleteEmptySql(String table, String key) {
        return "DELETE FROM " + table + " WHERE " + key.replace(", ", " = ? AND ") + " = ? AND requests = 0";
    }

    /** Where a statement wants the three sums among its parameters. */
    private enum Sums {
        /** The upsert: the key's columns, then the sums. */
        AFTER_KEY,
        /** The subtracting UPDATE: the sums (SET), then the key (WHERE). */
        BEFORE_KEY,
        /** The DELETE of empty rows: the key alone. */
        NONE
    }

    /** Binds each of {@code sums} to {@code statement} and runs them all as one batch. */
    private static void executeSeries(PreparedStatement statement, Map<SeriesKey, long[]> sums, Sums order)
            throws SQLException {
        for (Map.Entry<SeriesKey, long[]> e : sums.entrySet()) {
            int i = order == Sums.BEFORE_KEY ? bindSums(statement, 1, e.getValue()) : 1;
            SeriesKey k = e.getKey();
            statement.setObject(i++, timestamp(k.bucketMs()));
            statement.setString(i++, k.kind());
            statement.setString(i++, k.outcome());
            statement.setInt(i++, k.statusClass());
            if (order == Sums.AFTER_KEY) {
                bindSums(statement, i, e.getValue());
            }
            statement.addBatch();
        }
        statement.executeBatch();
    }

    /** As {@link #executeSeries}, for access_summary_key_hour and access_summary_key_day. */
    private static void executeRanks(PreparedStatement statement, Map<RankKey, long[]> sums, Sums order)
            throws SQLException {
        for (Map.Entry<RankKey, long[]> e : sums.entrySet()) {
            int i = order == Sums.BEFORE_KEY ? bindSums(statement, 1, e.getValue()) : 1;
            RankKey k = e.getKey();
            statement.setString(i++, k.dim());
            statement.setObject(i++, timestamp(k.bucketMs()));
            statement.setString(i++, k.value());
            if (order == Sums.AFTER_KEY) {
                bindSums(statement, i, e.getValue());
            }
            statement.addBatch();
        }
        statement.executeBatch();
    }

    private static int bindSums(PreparedStatement statement, int from, long[] sums) throws SQLException {
        int i = from;
        for (long sum : sums) {
            statement.setLong(i++, sum);
        }
        return i;
    }

    static OffsetDateTime timestamp(long ms) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(ms), ZoneOffset.UTC);
    }
}
