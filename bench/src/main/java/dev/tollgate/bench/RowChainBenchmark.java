package dev.tollgate.bench;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.store.internal.RowChain;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the hash chain costs the writer thread per row (docs/access-log.md, "Tamper evidence"): the canonical bytes
 * of a typical forwarded request's record and one SHA-256 over them and the previous chain, on a reused
 * {@link RowChain}. Run with {@code -prof gc} for the bytes allocated per row (the 32-byte result, ideally alone).
 * <p>
 * {@code java -jar bench/target/benchmarks.jar RowChainBenchmark -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RowChainBenchmark {

    private final RowChain<AccessRecord> chain = RowChain.accessLog();
    private final AccessRecord record = new AccessRecord(null, 1_764_979_200_000L, 37L, "gate-1", "office",
            "10.20.3.4", 51_234, null, Kind.FORWARD, "HTTP/1.1", "GET", "api.cdn17.example.com", 443,
            "/v1/objects/7f3a9c?view=summary", 200, 0L, 4_812L, "192.0.2.44", null, Outcome.OK, null);
    private byte[] previous = RowChain.genesis();
    private long seq;

    @Benchmark
    public byte[] nextRow() {
        previous = chain.next(previous, ++seq, record);
        return previous;
    }
}
