package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessQuery;
import dev.tollgate.store.StreamedRows;
import dev.tollgate.store.internal.AccessLogTable;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The admin API's access-log queries over {@value MillionRowAccessLog#ROWS} rows: one page each, as an
 * auditor's first request would ask for it, through {@link dev.tollgate.store.AccessLogReader} (a fresh
 * connection per call, as in the daemon). See docs/performance.md for how to run it and the figures.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AccessLogQueryBenchmark {

    private static final Instant DAY_15 = MillionRowAccessLog.START.plus(Duration.ofDays(15));

    // Each first page holds a full 100 rows (checked in open()), so each benchmark reads the same amount.
    private static final AccessQuery BY_EXACT_HOST = AccessQuery.all().withHost("h42.example.net");
    private static final AccessQuery BY_ONE_HOUR = AccessQuery.all()
            .withSince(DAY_15).withUntil(DAY_15.plus(Duration.ofHours(1)));
    private static final AccessQuery BY_SUFFIX_IN_ONE_DAY = AccessQuery.all().withHost("*.example.com")
            .withSince(DAY_15).withUntil(DAY_15.plus(Duration.ofDays(1)));
    // A host with about 100 rows among the million, spread over the whole log: the page reads every key range.
    private static final AccessQuery BY_RARE_HOST = AccessQuery.all().withHost(MillionRowAccessLog.host(4_999))
            .withLimit(AccessQuery.MAX_LIMIT);
    private static final AccessQuery BY_CLIENT = AccessQuery.all().withClient(MillionRowAccessLog.client(263));
    private static final AccessQuery SINCE_29_DAYS_AGO = AccessQuery.all()
            .withSince(MillionRowAccessLog.START.plus(Duration.ofDays(1)));
    private static final AccessQuery WHOLE_DAY = AccessQuery.all()
            .withSince(DAY_15).withUntil(DAY_15.plus(Duration.ofDays(1)));
    // What a time range costs as one statement, the plan AccessQuerySql avoids (see its class comment).
    private static final String ONE_HOUR_IN_ONE_STATEMENT = AccessLogTable.SELECT_SQL
            + " WHERE id > ? AND ts >= ? AND ts < ? ORDER BY id LIMIT ?";

    private AccessLog log;

    @Setup(Level.Trial)
    public void open() throws Exception {
        log = MillionRowAccessLog.openOrFill(MillionRowAccessLog.dataDir().resolve("query-1m"));
        Map<String, AccessQuery> pages = Map.of("byExactHost", BY_EXACT_HOST, "byTimeRangeOfOneHour", BY_ONE_HOUR,
                "bySuffixWithinOneDay", BY_SUFFIX_IN_ONE_DAY, "byClient", BY_CLIENT,
                "sinceTwentyNineDaysAgo", SINCE_29_DAYS_AGO);
        for (Map.Entry<String, AccessQuery> page : pages.entrySet()) {
            long rows = log.reader().query(page.getValue(), r -> { }).count();
            if (rows != page.getValue().limit()) {
                throw new IllegalStateException(page.getKey() + ": a first page of " + rows + " rows, not "
                        + page.getValue().limit() + "; the data set does not fit the benchmark");
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        log.close();
    }

    @Benchmark
    public StreamedRows byExactHost(Blackhole sink) throws Exception {
        return log.reader().query(BY_EXACT_HOST, sink::consume);
    }

    @Benchmark
    public StreamedRows byTimeRangeOfOneHour(Blackhole sink) throws Exception {
        return log.reader().query(BY_ONE_HOUR, sink::consume);
    }

    @Benchmark
    public StreamedRows bySuffixWithinOneDay(Blackhole sink) throws Exception {
        return log.reader().query(BY_SUFFIX_IN_ONE_DAY, sink::consume);
    }

    @Benchmark
    public StreamedRows byClient(Blackhole sink) throws Exception {
        return log.reader().query(BY_CLIENT, sink::consume);
    }

    /** Every row of a rare host: the whole key index of that host, with no page filled early. */
    @Benchmark
    public StreamedRows byRareHost(Blackhole sink) throws Exception {
        return log.reader().query(BY_RARE_HOST, sink::consume);
    }

    /** A wide time range: the id-range step reads most of the ts index before the first row. */
    @Benchmark
    public StreamedRows sinceTwentyNineDaysAgo(Blackhole sink) throws Exception {
        return log.reader().query(SINCE_29_DAYS_AGO, sink::consume);
    }

    /** The CSV export of one day (about 33,000 rows), every row through the sink. */
    @Benchmark
    public StreamedRows exportOneDay(Blackhole sink) throws Exception {
        return log.reader().streamAll(WHOLE_DAY, sink::consume);
    }

    /** The one-hour page as a single SELECT, as H2 plans it: for comparison with byTimeRangeOfOneHour. */
    @Benchmark
    public int byTimeRangeOfOneHourInOneStatement(Blackhole sink) throws Exception {
        try (Connection c = log.dataSource().getConnection();
             PreparedStatement select = c.prepareStatement(ONE_HOUR_IN_ONE_STATEMENT)) {
            select.setLong(1, 0);
            select.setObject(2, OffsetDateTime.ofInstant(BY_ONE_HOUR.since(), ZoneOffset.UTC));
            select.setObject(3, OffsetDateTime.ofInstant(BY_ONE_HOUR.until(), ZoneOffset.UTC));
            select.setInt(4, BY_ONE_HOUR.limit());
            int rows = 0;
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    sink.consume(AccessLogTable.read(rs));
                    rows++;
                }
            }
            return rows;
        }
    }
}
