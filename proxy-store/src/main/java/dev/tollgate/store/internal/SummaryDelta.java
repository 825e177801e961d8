package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * What a set of access_log rows adds to (or, {@linkplain #subtract subtracted}, takes from) the roll-up tables of
 * {@code V11__access_summary.sql} and {@code V13__access_summary_key_day.sql}: their requests and bytes summed in
 * memory by the key of each table, so that a batch of 500 rows costs one row per distinct key, not one per
 * access-log row. Filled on the writer thread (or the key indexer's, or the retention thread) only, never on a
 * request thread.
 * <p>
 * Keys are kept sorted: every transaction then updates the rows of a table in the same order, so that two nodes'
 * writers (or a writer and a purge) on one PostgreSQL database wait for each other instead of deadlocking.
 */
public final class SummaryDelta {

    /** Dimension of access_summary_key_hour: the row's host. */
    public static final String HOST = "H";
    /** The row's client_addr. */
    public static final String CLIENT = "C";
    /** The row's username. */
    public static final String USER = "U";
    /** The row's outcome and reason, for rows whose outcome is not OK. */
    public static final String REASON = "R";
    /** The characters of a value kept in key_value (see V11). */
    public static final int KEY_WIDTH = 255;

    static final long MINUTE_MS = 60_000;
    static final long HOUR_MS = 3_600_000;
    static final long DAY_MS = 24 * HOUR_MS;

    /**
     * A row of access_summary_minute or access_summary_hour. A value: the keys in a delta's maps never change. Only
     * the delta's own probe, which is never put in a map, is set again for each lookup, so that counting a row whose
     * key is there already allocates nothing (a new key per lookup was about 130 bytes a request in
     * AllocationPerRequestIT, docs/performance.md, session 19).
     */
    public static final class SeriesKey {
        private long bucketMs;
        private String kind;
        private String outcome;
        private int statusClass;

        public SeriesKey(long bucketMs, String kind, String outcome, int statusClass) {
            set(bucketMs, kind, outcome, statusClass);
        }

        private SeriesKey set(long bucketMs, String kind, String outcome, int statusClass) {
            this.bucketMs = bucketMs;
            this.kind = kind;
            this.outcome = outcome;
            this.statusClass = statusClass;
            return this;
        }

        private SeriesKey copy() {
            return new SeriesKey(bucketMs, kind, outcome, statusClass);
        }

        public long bucketMs() {
            return bucketMs;
        }

        public String kind() {
            return kind;
        }

        public String outcome() {
            return outcome;
        }

        public int statusClass() {
            return statusClass;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SeriesKey k && bucketMs == k.bucketMs && statusClass == k.statusClass
                    && Objects.equals(kind, k.kind) && Objects.equals(outcome, k.outcome);
        }

        @Override
        public int hashCode() {
            return Objects.hash(bucketMs, kind, outcome, statusClass);
        }

        @Override
        public String toString() {
            return "SeriesKey[" + bucketMs + ", " + kind + ", " + outcome + ", " + statusClass + "]";
        }
    }

    /**
     * A row of access_summary_key_hour, or of access_summary_key_day (a bucket that starts a UTC day). A value, as
     * {@link SeriesKey} is.
     */
    public static final class RankKey {
        private String dim;
        private long bucketMs;
        private String value;

        public RankKey(String dim, long bucketMs, String value) {
            set(dim, bucketMs, value);
        }

        private RankKey set(String dim, long bucketMs, String value) {
            this.dim = dim;
            this.bucketMs = bucketMs;
            this.value = value;
            return this;
        }

        private RankKey copy() {
            return new RankKey(dim, bucketMs, value);
        }

        public String dim() {
            return dim;
        }

        public long bucketMs() {
            return bucketMs;
        }

        public String value() {
            return value;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RankKey k && bucketMs == k.bucketMs && Objects.equals(dim, k.dim)
                    && Objects.equals(value, k.value);
        }

        @Override
        public int hashCode() {
            return Objects.hash(dim, bucketMs, value);
        }

        @Override
        public String toString() {
            return "RankKey[" + dim + ", " + bucketMs + ", " + value + "]";
        }
    }

    private static final Comparator<SeriesKey> SERIES_ORDER = Comparator.comparingLong(SeriesKey::bucketMs)
            .thenComparing(SeriesKey::kind).thenComparing(SeriesKey::outcome).thenComparingInt(SeriesKey::statusClass);
    static final Comparator<RankKey> RANK_ORDER = Comparator.comparing(RankKey::dim)
            .thenComparingLong(RankKey::bucketMs).thenComparing(RankKey::value);

    // Each value: requests, bytes from client, bytes to client.
    private final Map<SeriesKey, long[]> minutes = new TreeMap<>(SERIES_ORDER);
    private final Map<SeriesKey, long[]> hours = new TreeMap<>(SERIES_ORDER);
    private final Map<RankKey, long[]> ranks = new TreeMap<>(RANK_ORDER);
    private final Map<RankKey, long[]> dayRanks = new TreeMap<>(RANK_ORDER);
    // Set for each lookup, never put in a map (see SeriesKey).
    private final SeriesKey seriesProbe = new SeriesKey(0, null, null, 0);
    private final RankKey rankProbe = new RankKey(null, 0, null);

    /** The columns of an access_log row that its roll-ups count, as {@link Row#read} reads them. */
    public static final String COLUMNS = "ts, kind, outcome, status, bytes_from_client, bytes_to_client, host,"
            + " client_addr, username, reason";

    /** An access_log row's {@link #COLUMNS}, read back from the table (a row retention is about to delete). */
    public record Row(long tsMs, String kind, String outcome, int status, long bytesFromClient, long bytesToClient,
                      String host, String clientAddr, String username, String reason) {

        /** The row at the current position of {@code rs}, a result that has {@link #COLUMNS} among its own. */
        public static Row read(ResultSet rs) throws SQLException {
            return new Row(rs.getObject("ts", OffsetDateTime.class).toInstant().toEpochMilli(), rs.getString("kind"),
                    rs.getString("outcome"), rs.getInt("status"), rs.getLong("bytes_from_client"),
                    rs.getLong("bytes_to_client"), rs.getString("host"), rs.getString("client_addr"),
                    rs.getString("username"), rs.getString("reason"));
        }
    }

    /**
     * Counts {@code r}, a record as the writer stores it, in the series and, when {@code ranks}, in the ranks too
     * (see {@link SummaryTables#ranksWithTheWriter}).
     */
    public void add(AccessRecord r, boolean ranks) {
        add(r.tsMs(), r.kind().name(), r.outcome().name(), r.status(), r.bytesFromClient(), r.bytesToClient(),
                r.host(), r.clientAddr(), r.username(), r.reason(), true, ranks, 1);
    }

    /** Counts {@code row}, read back from access_log, in the series and, when {@code ranks}, in the ranks: a backfill. */
    public void add(Row row, boolean ranks) {
        add(row, true, ranks, 1);
    }

    /** Counts {@code row} in the ranks alone: the key indexer's part on H2. */
    public void addRanks(Row row) {
        add(row, false, true, 1);
    }

    /** Takes away {@code row}, which a purge deleted, from the series and, when {@code ranks}, from the ranks. */
    public void subtract(Row row, boolean ranks) {
        add(row, true, ranks, -1);
    }

    private void add(Row row, boolean series, boolean ranks, int sign) {
        add(row.tsMs(), row.kind(), row.outcome(), row.status(), row.bytesFromClient(), row.bytesToClient(),
                row.host(), row.clientAddr(), row.username(), row.reason(), series, ranks, sign);
    }

    /**
     * Counts one row with these columns ({@code sign} 1), or takes it away ({@code sign} -1, a purged row), in the
     * series and the ranks as asked. The strings are made to fit their columns as {@link AccessLogTable#bind}
     * stores them, so that a row counted from a record and the same row read back from the table have the same keys.
     */
    private void add(long tsMs, String kind, String outcome, int status, long bytesFromClient, long bytesToClient,
                     String host, String clientAddr, String username, String reason, boolean series, boolean ranks,
                     int sign) {
        String outcomeValue = AccessLogTable.fit(outcome, AccessLogTable.OUTCOME_WIDTH);
        long fromClient = sign * bytesFromClient;
        long toClient = sign * bytesToClient;
        long hour = floor(tsMs, HOUR_MS);
        long day = floor(tsMs, DAY_MS);
        if (series) {
            String kindValue = AccessLogTable.fit(kind, AccessLogTable.KIND_WIDTH);
            int statusClass = statusClass(status);
            count(minutes, seriesProbe.set(floor(tsMs, MINUTE_MS), kindValue, outcomeValue, statusClass),
                    SeriesKey::copy, sign, fromClient, toClient);
            count(hours, seriesProbe.set(hour, kindValue, outcomeValue, statusClass), SeriesKey::copy, sign,
                    fromClient, toClient);
        }
        if (ranks) {
            rank(HOST, hour, day, AccessLogTable.fit(host, AccessLogTable.HOST_WIDTH), sign, fromClient, toClient);
            rank(CLIENT, hour, day, AccessLogTable.fit(clientAddr, AccessLogTable.CLIENT_ADDR_WIDTH), sign,
                    fromClient, toClient);
            rank(USER, hour, day, AccessLogTable.fit(username, AccessLogTable.USERNAME_WIDTH), sign, fromClient,
                    toClient);
            if (!"OK".equals(outcomeValue)) {
                rank(REASON, hour, day, reasonKey(outcomeValue,
                        AccessLogTable.fit(reason, AccessLogTable.REASON_WIDTH)), sign, fromClient, toClient);
            }
        }
    }

    /** Whether nothing was counted. */
    public boolean isEmpty() {
        return minutes.isEmpty() && ranks.isEmpty();
    }

    /** Per minute: key to {requests, bytes from client, bytes to client}, in key order. */
    public Map<SeriesKey, long[]> minutes() {
        return minutes;
    }

    /** Per hour, as {@link #minutes()}. */
    public Map<SeriesKey, long[]> hours() {
        return hours;
    }

    /** Per hour and value of each dimension, as {@link #minutes()}. */
    public Map<RankKey, long[]> ranks() {
        return ranks;
    }

    /**
     * Per UTC day and value of each dimension, as {@link #minutes()}: the same rows as {@link #ranks()}, counted in
     * their day instead of their hour, so that the day table moves with the hour table in every transaction that
     * changes it and stays the sum of that day's hour rows.
     */
    public Map<RankKey, long[]> dayRanks() {
        return dayRanks;
    }

    /**
     * The status class a roll-up counts {@code status} in: 1 to 5 for 100 to 599, 0 ("none") for anything else,
     * as a refusal answered before a status or a tunnel without one is stored.
     */
    public static int statusClass(int status) {
        return status >= 100 && status < 600 ? status / 100 : 0;
    }

    /** The key_value of a reason: {@code "DENIED: host not allowed"}, or the outcome alone without a reason. */
    static String reasonKey(String outcome, String reason) {
        return reason == null ? outcome : outcome + ": " + reason;
    }

    /** The start of the {@code sizeMs} bucket that holds {@code ms} (UTC, since the epoch). */
    static long floor(long ms, long sizeMs) {
        return Math.floorDiv(ms, sizeMs) * sizeMs;
    }

    private void rank(String dim, long hour, long day, String value, int sign, long fromClient, long toClient) {
        if (value != null) {
            String key = AccessLogTable.fit(value, KEY_WIDTH);
            count(ranks, rankProbe.set(dim, hour, key), RankKey::copy, sign, fromClient, toClient);
            count(dayRanks, rankProbe.set(dim, day, key), RankKey::copy, sign, fromClient, toClient);
        }
    }

    /** Adds to the sums of {@code probe}'s key, putting a copy of the probe in {@code sums} when the key is new. */
    private static <K> void count(Map<K, long[]> sums, K probe, UnaryOperator<K> copy, int sign, long fromClient,
                                  long toClient) {
        long[] sum = sums.get(probe);
        if (sum == null) {
            sum = new long[3];
            sums.put(copy.apply(probe), sum);
        }
        sum[0] += sign;
        sum[1] += fromClient;
        sum[2] += toClient;
    }
}
