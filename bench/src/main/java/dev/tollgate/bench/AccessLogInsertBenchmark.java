package dev.tollgate.bench;

import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessRecord;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The access-log writer's insert rate, with and without the host and client indexes of V3: what those
 * indexes cost on the hot path. Each iteration appends {@value #ROWS_PER_ITERATION} rows through the real
 * writer (default flush interval) and waits until they are committed; the table grows from one iteration
 * to the next. The score is microseconds per row: rows per second is 1,000,000 / score.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(AccessLogInsertBenchmark.ROWS_PER_ITERATION)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class AccessLogInsertBenchmark {

    static final int ROWS_PER_ITERATION = 100_000;

    /** Whether V3's access_log_host_idx and access_log_client_idx are there (false: dropped after opening). */
    @Param({"true", "false"})
    public boolean hostAndClientIndexes;

    /** The writer's batchSize: rows per commit when it is busy. 500 is the store's default. */
    @Param({"500"})
    public int batchSize;

    private Path dir;
    private AccessLog log;
    private final Random random = new Random(MillionRowAccessLog.SEED);
    private long nextRow;
    private AccessRecord[] rows;

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = MillionRowAccessLog.dataDir().resolve("insert-" + hostAndClientIndexes + "-" + batchSize);
        log = MillionRowAccessLog.openEmpty(dir, batchSize);
        if (!hostAndClientIndexes) {
            try (Connection c = log.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP INDEX access_log_host_idx");
                s.execute("DROP INDEX access_log_client_idx");
            }
        }
    }

    /** Makes the iteration's rows beforehand, so that only storing them is measured. */
    @Setup(Level.Iteration)
    public void makeRows() {
        rows = new AccessRecord[ROWS_PER_ITERATION];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = MillionRowAccessLog.row(random, nextRow++);
        }
    }

    /** Closes and deletes the database: written flat out, H2 leaves a file of several GB, mostly free space. */
    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        MillionRowAccessLog.deleteRecursively(dir);
    }

    @Benchmark
    public long appendAndFlush() {
        for (AccessRecord r : rows) {
            log.writer().append(r);
        }
        if (!log.writer().flush(600_000)) {
            throw new IllegalStateException("the writer did not store the rows within 10 minutes");
        }
        return log.writer().written();
    }
}
