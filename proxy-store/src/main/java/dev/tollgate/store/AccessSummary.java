package dev.tollgate.store;

import dev.tollgate.store.internal.SealedDays;
import dev.tollgate.store.internal.SummaryDelta;
import dev.tollgate.store.internal.SummaryTables;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Summaries of the access log over a time range, read from its roll-up tables (docs/access-log.md, "Roll-ups"),
 * never from access_log itself, so that their cost follows the length of the range and the distinct values in it,
 * not the number of rows: time series of requests and bytes ({@link #series}), the top values of a dimension
 * ({@link #top}) and {@link #totals}. The admin API's summary endpoints use it, and so can a report tool. Each call
 * borrows a connection of its own and sees what the writer has committed; on H2 a top-N sees the rows up to the key
 * indexer's mark, about a second behind (SummaryTables.ranksWithTheWriter).
 * <p>
 * Ranges are whole buckets: {@code since} is rounded down and {@code until} up to the bucket's boundary (UTC), so a
 * bucket the range only partly covers is counted whole, and the answer names the range it covers. Minute series
 * read the minute roll-up; hour and day series and totals the hour roll-up (a day is 24 hours summed); a top-N
 * the day ranks for the whole, sealed UTC days of its range (every day before today, once its first change to the
 * ranks after midnight has sealed it: SealedDays) and the hour ranks for the rest.
 */
public final class AccessSummary {

    /** The most points a series may have: 7 days of minutes. */
    public static final int MAX_POINTS = 10_080;
    /** The most rows a top-N may have. */
    public static final int MAX_LIMIT = 1_000;
    private static final long HOUR_MS = Bucket.HOUR.sizeMs;
    private static final long DAY_MS = Bucket.DAY.sizeMs;
    private static final String RANKED = "SELECT key_value, requests, bytes_from_client, bytes_to_client FROM ";
    private static final String RANKED_RANGE = " WHERE dim = ? AND bucket >= ? AND bucket < ?";
    /**
     * A top-N's rows: the day ranks of its whole sealed days, then the hour ranks of the hours before and after them
     * (any of the three ranges may be empty). One statement, so that the three parts are read in one snapshot: a
     * key-indexer round or a purge that commits meanwhile is seen by all of them or none.
     */
    private static final String TOP_SQL = RANKED + SummaryTables.KEY_DAY + RANKED_RANGE
            + " UNION ALL " + RANKED + SummaryTables.KEY_HOUR + RANKED_RANGE
            + " UNION ALL " + RANKED + SummaryTables.KEY_HOUR + RANKED_RANGE;

    /** The width of a series' points. */
    public enum Bucket {
        MINUTE(60_000L), HOUR(3_600_000L), DAY(86_400_000L);

        private final long sizeMs;

        Bucket(long sizeMs) {
            this.sizeMs = sizeMs;
        }

        public long sizeMs() {
            return sizeMs;
        }
    }

    /** What a point's counts are split by: outcome ({@code "OK"}, ...) or status class ({@code "2xx"}, ..., "none"). */
    public enum By {
        OUTCOME, STATUS
    }

    /** What a top-N ranks: hosts, clients, users, or outcome and reason of the rows that were not OK. */
    public enum Dimension {
        HOST(SummaryDelta.HOST), CLIENT(SummaryDelta.CLIENT), USER(SummaryDelta.USER), REASON(SummaryDelta.REASON);

        private final String dim;

        Dimension(String dim) {
            this.dim = dim;
        }
    }

    /** What a top-N is ordered by: requests, or bytes both ways together. */
    public enum Metric {
        REQUESTS, BYTES
    }

    /** One bucket of a series, or a range's totals: {@code counts} splits {@code requests}; empty buckets have none. */
    public record Point(Instant t, long requests, long bytesFromClient, long bytesToClient, Map<String, Long> counts) {
    }

    /** A series: every bucket from {@code since} (inclusive) to {@code until} (exclusive), in order, empty ones too. */
    public record Series(Bucket bucket, By by, Instant since, Instant until, List<Point> points) {
    }

    /** One value of a top-N. */
    public record Ranked(String key, long requests, long bytesFromClient, long bytesToClient) {
    }

    /** A top-N: at most its limit of values, highest first (ties by key). */
    public record Top(Dimension dim, Metric metric, Instant since, Instant until, List<Ranked> rows) {
    }

    private final DataSource dataSource;

    public AccessSummary(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Requests and bytes per {@code bucket} from {@code since} to {@code until}, each point's requests split
     * {@code by} outcome or status class.
     *
     * @throws IllegalArgumentException when the rounded range is empty or has more than {@value #MAX_POINTS} points
     */
    public Series series(Bucket bucket, By by, Instant since, Instant until) throws SQLException {
        long from = floor(since.toEpochMilli(), bucket.sizeMs);
        long to = ceil(until.toEpochMilli(), bucket.sizeMs);
        long count = checkedRange(from, to, since, until) / bucket.sizeMs;
        if (count > MAX_POINTS) {
            throw new IllegalArgumentException("the range holds " + count + " " + name(bucket) + "s; a series has at"
                    + " most " + MAX_POINTS + " points: shorten it or take a longer bucket");
        }
        Sums[] sums = new Sums[(int) count];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = new Sums();
        }
        String table = bucket == Bucket.MINUTE ? SummaryTables.MINUTE : SummaryTables.HOUR;
        String split = by == By.OUTCOME ? "outcome" : "status_class";
        // The roll-up rows themselves, summed here as in top(): no GROUP BY for H2 to do.
        String sql = "SELECT bucket, " + split + ", requests, bytes_from_client, bytes_to_client FROM " + table
                + " WHERE bucket >= ? AND bucket < ?";
        try (Connection c = dataSource.getConnection(); PreparedStatement select = c.prepareStatement(sql)) {
            select.setObject(1, timestamp(from));
            select.setObject(2, timestamp(to));
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    long t = rs.getObject(1, OffsetDateTime.class).toInstant().toEpochMilli();
                    int i = (int) ((floor(t, bucket.sizeMs) - from) / bucket.sizeMs);
                    String key = by == By.OUTCOME ? rs.getString(2) : statusClassName(rs.getInt(2));
                    sums[i].add(key, rs.getLong(3), rs.getLong(4), rs.getLong(5));
                }
            }
        }
        List<Point> points = new ArrayList<>(sums.length);
        for (int i = 0; i < sums.length; i++) {
            points.add(sums[i].point(from + i * bucket.sizeMs));
        }
        return new Series(bucket, by, Instant.ofEpochMilli(from), Instant.ofEpochMilli(to), List.copyOf(points));
    }

    /**
     * The {@code limit} values of {@code dim} with the most requests (or bytes) from {@code since} to {@code until},
     * rounded to whole hours.
     *
     * @throws IllegalArgumentException when the rounded range is empty or {@code limit} is not 1 to {@value #MAX_LIMIT}
     */
    public Top top(Dimension dim, Metric metric, Instant since, Instant until, int limit) throws SQLException {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " is not from 1 to " + MAX_LIMIT);
        }
        long from = floor(since.toEpochMilli(), HOUR_MS);
        long to = ceil(until.toEpochMilli(), HOUR_MS);
        checkedRange(from, to, since, until);
        // The rows summed here, not by a GROUP BY ... ORDER BY ... LIMIT: H2 groups about half as fast
        // (180-200 against 95-115 ms for a day of 5,000 hosts, 104,000 rows; docs/performance.md).
        Map<String, long[]> sums = new HashMap<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement select = c.prepareStatement(TOP_SQL)) {
            // The whole sealed UTC days inside [from, to) from the day ranks: a month of 5,000 hosts is 150,000 rows
            // there against 3.6 million hour rows (docs/performance.md, "Summary queries"); the rest from the hours.
            long firstDay = ceil(from, DAY_MS);
            long endOfDays = Math.min(floor(to, DAY_MS), SealedDays.sealedUntil(c));
            if (endOfDays <= firstDay) {
                firstDay = from;
                endOfDays = from;
            }
            int i = bindRanked(select, 1, dim, firstDay, endOfDays);
            i = bindRanked(select, i, dim, from, firstDay);
            bindRanked(select, i, dim, endOfDays, to);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    long[] sum = sums.computeIfAbsent(rs.getString(1), k -> new long[3]);
                    sum[0] += rs.getLong(2);
                    sum[1] += rs.getLong(3);
                    sum[2] += rs.getLong(4);
                }
            }
        }
        Comparator<Ranked> highestFirst = Comparator.comparingLong((Ranked r) -> metric == Metric.REQUESTS
                ? r.requests() : r.bytesFromClient() + r.bytesToClient()).reversed().thenComparing(Ranked::key);
        List<Ranked> rows = sums.entrySet().stream()
                .map(e -> new Ranked(e.getKey(), e.getValue()[0], e.getValue()[1], e.getValue()[2]))
                .sorted(highestFirst)
                .limit(limit)
                .toList();
        return new Top(dim, metric, Instant.ofEpochMilli(from), Instant.ofEpochMilli(to), List.copyOf(rows));
    }

    /**
     * Requests and bytes from {@code since} to {@code until}, rounded to whole hours, split by outcome; the point's
     * {@code t} is the rounded start.
     *
     * @throws IllegalArgumentException when the rounded range is empty
     */
    public Point totals(Instant since, Instant until) throws SQLException {
        long from = floor(since.toEpochMilli(), HOUR_MS);
        long to = ceil(until.toEpochMilli(), HOUR_MS);
        checkedRange(from, to, since, until);
        String sql = "SELECT outcome, SUM(requests), SUM(bytes_from_client), SUM(bytes_to_client) FROM "
                + SummaryTables.HOUR + " WHERE bucket >= ? AND bucket < ? GROUP BY outcome";
        Sums total = new Sums();
        try (Connection c = dataSource.getConnection(); PreparedStatement select = c.prepareStatement(sql)) {
            select.setObject(1, timestamp(from));
            select.setObject(2, timestamp(to));
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    total.add(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
                }
            }
        }
        return total.point(from);
    }

    /** Binds one part of {@link #TOP_SQL}: the dimension and the range {@code [fromMs, toMs)}; the next index. */
    private static int bindRanked(PreparedStatement select, int first, Dimension dim, long fromMs, long toMs)
            throws SQLException {
        select.setString(first, dim.dim);
        select.setObject(first + 1, timestamp(fromMs));
        select.setObject(first + 2, timestamp(toMs));
        return first + 3;
    }

    /**
     * The key a status class is counted under in {@link By#STATUS} series: {@code "1xx"} to {@code "5xx"}, and
     * {@code "none"} for class 0 (no status).
     */
    public static String statusClassName(int statusClass) {
        return statusClass == 0 ? "none" : statusClass + "xx";
    }

    /** A point as it is summed from roll-up rows. */
    private static final class Sums {
        private long requests;
        private long bytesFromClient;
        private long bytesToClient;
        private final Map<String, Long> counts = new TreeMap<>();

        void add(String key, long moreRequests, long moreFromClient, long moreToClient) {
            requests += moreRequests;
            bytesFromClient += moreFromClient;
            bytesToClient += moreToClient;
            counts.merge(key, moreRequests, Long::sum);
        }

        /** The point at {@code tMs}, its counts sorted by key. */
        Point point(long tMs) {
            return new Point(Instant.ofEpochMilli(tMs), requests, bytesFromClient, bytesToClient,
                    Collections.unmodifiableMap(counts));
        }
    }

    private static long checkedRange(long from, long to, Instant since, Instant until) {
        if (to <= from) {
            throw new IllegalArgumentException("since (" + since + ") must be before until (" + until + ")");
        }
        return to - from;
    }

    private static String name(Bucket bucket) {
        return bucket.name().toLowerCase(Locale.ROOT);
    }

    private static long floor(long ms, long sizeMs) {
        return Math.floorDiv(ms, sizeMs) * sizeMs;
    }

    private static long ceil(long ms, long sizeMs) {
        return -Math.floorDiv(-ms, sizeMs) * sizeMs;
    }

    private static OffsetDateTime timestamp(long ms) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(ms), ZoneOffset.UTC);
    }
}
