package dev.tollgate.bench;

import dev.tollgate.store.AccessJournal;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.StoreConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the request path pays for the audit journal: one {@link AccessJournal#append} of a typical forwarded
 * request's record (a write(2) into the page cache) and {@link AccessJournal#awaitDurable} (with {@code fsync},
 * an fdatasync shared by the threads that appended meanwhile: group commit), in a journal on the state
 * directory's file system (java.io.tmpdir here). Nothing releases the records, so segments pile up as they
 * would while the database is down; the score is microseconds per append, per thread.
 * <p>
 * {@code java -jar bench/target/benchmarks.jar JournalAppendBenchmark -p fsync=false,true -t 1} and {@code -t 16}
 * (16 threads appending at once, as request threads do under load: with fsync, how well the groups form).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class JournalAppendBenchmark {

    @Param({"false", "true"})
    public boolean fsync;

    private Path dir;
    private AccessJournal journal;
    private AccessRecord record;

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = Files.createTempDirectory("journal-bench");
        journal = AccessJournal.open(dir, StoreConfig.DEFAULT_JOURNAL_SEGMENT_BYTES, fsync, 0,
                AccessJournal.Replay.none());
        record = new AccessRecord(null, System.currentTimeMillis(), 12L, "node-1.example.net", "office",
                "10.1.2.3", 54_321, null, Kind.FORWARD, "HTTP/1.1", "GET", "www.example.com", 80,
                "/static/app/main.css", 200, 0L, 1_024L, "93.184.216.34", null, Outcome.OK, null);
    }

    @Benchmark
    public long append() {
        long seq = journal.append(record);
        journal.awaitDurable(seq);
        return seq;
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        journal.close();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }
}
