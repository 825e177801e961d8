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
 * Which UTC days access_summary_key_day holds ({@code V13__access_summary_key_day.sql}): every day before the mark
 * {@code sealed_until}, each the exact sum of its hour ranks, and no other. A day is sealed once it is over, by the
 * first transaction that changes the ranks after its end: its hour ranks are summed into day rows and the mark
 * moves past it, in that transaction. From then on {@link SummaryTables} changes a sealed day's day ranks with its
 * hour ranks, so late rows and purges keep it exact; the current day's ranks live in the hour table alone, which
 * spares H2 a second copy of the rows every key-indexer round dirties.
 * <p>
 * Who may seal, and why it stays exact: on H2 only the key indexer changes the ranks, in rounds that hold the key
 * mark FOR UPDATE, and retention reads that mark FOR UPDATE too before it subtracts (RetentionPurger.rankedUpTo),
 * so a seal never runs beside another change to the ranks. On PostgreSQL several writers and purgers change them at
 * once: each reads the mark FOR SHARE before it touches a rank, and a seal holds it FOR UPDATE, so a seal waits for
 * every transaction that read the old mark to commit (its rows are then in the hour ranks the seal sums, READ
 * COMMITTED) and every transaction after it sees the new mark and changes the day ranks too.
 */
public final class SealedDays {

    private static final Logger LOG = LoggerFactory.getLogger(SealedDays.class);
    static final String MARK = "access_summary_key_day_mark";
    private static final List<String> DIMENSIONS = List.of(SummaryDelta.HOST, SummaryDelta.CLIENT,
            SummaryDelta.USER, SummaryDelta.REASON);
    private static final String SELECT_SQL = "SELECT sealed_until FROM " + MARK;
    private static final String UPDATE_SQL = "UPDATE " + MARK + " SET sealed_until = ?";
    // The CAST tells H2 the parameter's type, which it cannot infer from a select list.
    private static final String SEAL_SQL = "INSERT INTO " + SummaryTables.KEY_DAY + " (dim, bucket, key_value,"
            + " requests, bytes_from_client, bytes_to_client) SELECT dim, CAST(? AS TIMESTAMP(3) WITH TIME ZONE),"
            + " key_value, SUM(requests), SUM(bytes_from_client), SUM(bytes_to_client) FROM " + SummaryTables.KEY_HOUR
            + " WHERE dim = ? AND bucket >= ? AND bucket < ? GROUP BY dim, key_value";

    private SealedDays() {
    }

    /**
     * The mark, read without a lock: what a top-N reads before it chooses its tables. The mark only moves forward
     * and a sealed day stays exact, so a day before the mark it read is still sealed when it reads the day ranks.
     */
    public static long sealedUntil(Connection c) throws SQLException {
        return read(c, SELECT_SQL);
    }

    /**
     * The mark, for a transaction about to change the ranks of {@code nowMs}'s store: seals the days that are over
     * first (holding the mark FOR UPDATE until the caller commits), or reads it FOR SHARE on PostgreSQL, so that no
     * seal runs until the caller commits. Returns the mark; the caller changes the day ranks of the days before it.
     */
    static long forRanks(Connection c, DatabaseUrl.Vendor vendor, long nowMs) throws SQLException {
        long today = SummaryDelta.floor(nowMs, SummaryDelta.DAY_MS);
        if (sealedUntil(c) < today) {
            return seal(c, read(c, SELECT_SQL + " FOR UPDATE"), today);
        }
        return forSubtracting(c, vendor);
    }

    /** The mark, for retention about to subtract from the ranks: read FOR SHARE on PostgreSQL (see the class). */
    static long forSubtracting(Connection c, DatabaseUrl.Vendor vendor) throws SQLException {
        // On H2 a plain read: the caller holds the key mark, which every seal holds too.
        return read(c, vendor == DatabaseUrl.Vendor.POSTGRESQL ? SELECT_SQL + " FOR SHARE" : SELECT_SQL);
    }

    /**
     * Writes the mark at the oldest day of the hour ranks and seals every day from it that is over at {@code nowMs}:
     * migration V14, in its transaction, with access_summary_key_day empty.
     */
    public static void sealFromTheOldest(Connection c, long nowMs) throws SQLException {
        long today = SummaryDelta.floor(nowMs, SummaryDelta.DAY_MS);
        long first = today;
        // From the hour series, whose primary key leads with bucket: every hour with ranks has a series row (both
        // count the same rows; the ranks lag behind on H2), and MIN there is one index probe.
        try (PreparedStatement range = c.prepareStatement("SELECT MIN(bucket) FROM " + SummaryTables.HOUR);
             ResultSet rs = range.executeQuery()) {
            rs.next();
            OffsetDateTime min = rs.getObject(1, OffsetDateTime.class);
            if (min != null) {
                first = Math.min(today, SummaryDelta.floor(min.toInstant().toEpochMilli(), SummaryDelta.DAY_MS));
            }
        }
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + MARK + " (sealed_until) VALUES (?)")) {
            insert.setObject(1, SummaryTables.timestamp(first));
            insert.executeUpdate();
        }
        seal(c, first, today);
    }

    /** Seals the days from {@code from} (the mark, held FOR UPDATE) to {@code until}; returns the new mark. */
    private static long seal(Connection c, long from, long until) throws SQLException {
        if (from >= until) {
            return from;
        }
        long started = System.nanoTime();
        long made = 0;
        try (PreparedStatement insert = c.prepareStatement(SEAL_SQL)) {
            for (long day = from; day < until; day += SummaryDelta.DAY_MS) {
                for (String dim : DIMENSIONS) {
                    insert.setObject(1, SummaryTables.timestamp(day));
                    insert.setString(2, dim);
                    insert.setObject(3, SummaryTables.timestamp(day));
                    insert.setObject(4, SummaryTables.timestamp(day + SummaryDelta.DAY_MS));
                    made += insert.executeUpdate();
                }
            }
        }
        try (PreparedStatement update = c.prepareStatement(UPDATE_SQL)) {
            update.setObject(1, SummaryTables.timestamp(until));
            update.executeUpdate();
        }
        LOG.info("day ranks sealed up to {}: {} rows in {} ms", SummaryTables.timestamp(until), made,
                (System.nanoTime() - started) / 1_000_000);
        return until;
    }

    private static long read(Connection c, String sql) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(sql); ResultSet rs = select.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException(MARK + " has no row: migration V14 writes it");
            }
            return rs.getObject(1, OffsetDateTime.class).toInstant().toEpochMilli();
        }
    }
}
