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
import java.sql.SQLException;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The access-log writer's insert rate with the key indexer running beside it and without: what indexing
 * hosts and clients (V3, {@link dev.tollgate.store.KeyIndexer}) costs the hot path, which no longer writes
 * any host or client index itself but shares the database and the machine with the indexer. Each iteration appends {@value #ROWS_PER_ITERATION} rows through the real
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

    /** Whether the key indexer runs, as in the daemon (false: stopped right after opening). */
    @Param({"true", "false"})
    public boolean keyIndexer;

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
        dir = MillionRowAccessLog.dataDir().resolve("insert-" + keyIndexer + "-" + batchSize);
        log = MillionRowAccessLog.openEmpty(dir, batchSize);
        if (!keyIndexer) {
            log.keyIndexer().close();
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
    public void close() throws IOException, SQLException {
        if (keyIndexer) {
            // How far behind the writer the indexer ended: the unindexed tail a query would have walked.
            long behind = log.writer().written() - log.keyIndexer().indexed();
            System.err.printf("key indexer: %,d rows indexed, %,d behind the writer at the end%n",
                    log.keyIndexer().indexed(), behind);
        }
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
