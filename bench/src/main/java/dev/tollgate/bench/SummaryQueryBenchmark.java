package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessSummary;
import dev.tollgate.store.AccessSummary.Bucket;
import dev.tollgate.store.AccessSummary.By;
import dev.tollgate.store.AccessSummary.Dimension;
import dev.tollgate.store.AccessSummary.Metric;
import dev.tollgate.store.StoreConfig;

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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The queries behind the admin API's summary endpoints ({@code /api/v1/summary/series} and {@code /top}) over a
 * preloaded log of {@code -Dtollgate.bench.summaryRows} rows (default 1,000,000) spread over 30 days, through
 * {@link AccessSummary} with a fresh connection per call, as the daemon runs them. The log is
 * {@link PreloadAccessLog}'s (roll-ups filled as the migration fills them), made once under
 * {@code bench/target/tollgate-bench/summary-<rows>} and reused. See docs/performance.md, "Summary queries".
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SummaryQueryBenchmark {

    static final String ROWS_PROPERTY = "tollgate.bench.summaryRows";
    /** The newest row's time: fixed, so that every run asks the same ranges of the same log. */
    static final Instant END = Instant.parse("2026-12-01T00:00:00Z");
    private static final Duration SPAN = Duration.ofDays(30);

    private AccessLog log;
    private AccessSummary summary;

    @Setup(Level.Trial)
    public void open() throws Exception {
        long rows = Long.getLong(ROWS_PROPERTY, 1_000_000L);
        Path stateDir = MillionRowAccessLog.dataDir().resolve("summary-" + rows);
        if (!Files.exists(stateDir.resolve("access.mv.db"))) {
            PreloadAccessLog.Result made = PreloadAccessLog.preload(stateDir, rows, "bench-node", SPAN, END);
            System.out.printf("preloaded %,d rows in %.1f s, of which roll-ups %.1f s%n", made.rows(),
                    made.elapsed().toNanos() / 1e9, made.rollUps().toNanos() / 1e9);
        }
        log = AccessLog.open(new StoreConfig("jdbc:h2:file:" + stateDir.toAbsolutePath().resolve("access"), null,
                null, null, null, null));
        summary = log.summary();
        long counted = summary.totals(END.minus(SPAN).minus(Duration.ofDays(1)), END).requests();
        if (counted != rows) {
            throw new IllegalStateException(stateDir + ": the roll-ups count " + counted + " requests, not " + rows
                    + "; delete the directory to preload it again");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        log.close();
    }

    /** The console's default chart: the last 24 hours by hour, split by outcome (24 points). */
    @Benchmark
    public AccessSummary.Series seriesHoursOfADay() throws Exception {
        return summary.series(Bucket.HOUR, By.OUTCOME, END.minus(Duration.ofDays(1)), END);
    }

    /** The last hour by minute (60 points). */
    @Benchmark
    public AccessSummary.Series seriesMinutesOfAnHour() throws Exception {
        return summary.series(Bucket.MINUTE, By.STATUS, END.minus(Duration.ofHours(1)), END);
    }

    /** The most points a series may have: 7 days by minute (10,080 points). */
    @Benchmark
    public AccessSummary.Series seriesMinutesOfAWeek() throws Exception {
        return summary.series(Bucket.MINUTE, By.OUTCOME, END.minus(Duration.ofDays(7)), END);
    }

    /** The whole log by day (31 points). */
    @Benchmark
    public AccessSummary.Series seriesDaysOfAMonth() throws Exception {
        return summary.series(Bucket.DAY, By.STATUS, END.minus(SPAN), END);
    }

    /** The top 10 hosts of the last 24 hours by requests. */
    @Benchmark
    public AccessSummary.Top topHostsOfADay() throws Exception {
        return summary.top(Dimension.HOST, Metric.REQUESTS, END.minus(Duration.ofDays(1)), END, 10);
    }

    /** The top 10 hosts of the whole month by bytes: every hour's hosts summed, the widest top-N. */
    @Benchmark
    public AccessSummary.Top topHostsOfAMonth() throws Exception {
        return summary.top(Dimension.HOST, Metric.BYTES, END.minus(SPAN), END, 10);
    }

    /** The top 10 clients of the last 7 days by bytes. */
    @Benchmark
    public AccessSummary.Top topClientsOfAWeek() throws Exception {
        return summary.top(Dimension.CLIENT, Metric.BYTES, END.minus(Duration.ofDays(7)), END, 10);
    }

    /** The top refusal reasons of the last 24 hours. */
    @Benchmark
    public AccessSummary.Top topReasonsOfADay() throws Exception {
        return summary.top(Dimension.REASON, Metric.REQUESTS, END.minus(Duration.ofDays(1)), END, 10);
    }
}
