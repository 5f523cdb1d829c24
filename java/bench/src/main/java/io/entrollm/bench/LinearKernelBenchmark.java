package io.entrollm.bench;

import io.entrollm.infer.Linear;
import io.entrollm.infer.Workers;
import io.entrollm.infer.kernels.GgmlLinear;
import io.entrollm.infer.kernels.SymbolLinear;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.tensor.DType;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One generated token's matrix-vector product (and a 4-token tile of a prompt) on the CPU, one thread, for each stored form the engine
 * computes from: llama.cpp's Q8_0 / Q4_0 blocks as stored, and EntroLLM symbols (8-bit, 4-bit per tensor,
 * 4-bit group:128). The matrix (32768 x 2048, 32-71 MB) is larger than this machine's 32 MiB L3, so the
 * weights come from memory as in a real pass. Scores are milliseconds per product; BENCHMARKS.md divides
 * {@link Linear#bytes()} by them for GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"--add-modules", "jdk.incubator.vector"})
public class LinearKernelBenchmark {
    public static final int ROWS = 32768, COLS = 2048;

    @Param({"Q8_0", "Q4_0", "u8", "u4", "u4-g128"})
    public String form;

    /** 1: a generated token; 4: one tile of a prompt (the kernels convert each weight once for the tile). */
    @Param({"1", "4"})
    public int tokens;

    private Arena arena;
    private Workers workers;
    private Linear matrix;
    private float[] x, out;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        workers = Workers.of(1);
        Random r = new Random(11);
        matrix = switch (form) {
            case "Q8_0" -> ggml(DType.Q8_0, r);
            case "Q4_0" -> ggml(DType.Q4_0, r);
            case "u8" -> symbols(false, (long) ROWS * COLS, r);
            case "u4" -> symbols(true, (long) ROWS * COLS, r);
            case "u4-g128" -> symbols(true, 128, r);
            default -> throw new IllegalArgumentException(form);
        };
        x = new float[tokens * COLS];
        out = new float[tokens * ROWS];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        System.out.printf("%n%s: %d bytes of weights%n", form, matrix.bytes());
    }

    private MemorySegment randomBytes(long n, Random r) {
        MemorySegment m = arena.allocate(n, 64);
        for (long i = 0; i < n; i++) m.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        return m;
    }

    private Linear ggml(DType dtype, Random r) {
        long blocks = (long) ROWS * COLS / 32;
        MemorySegment m = randomBytes(blocks * dtype.blockBytes(), r);
        ValueLayout.OfShort f16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long b = 0; b < blocks; b++) m.set(f16, b * dtype.blockBytes(), Float.floatToFloat16((float) (0.001 + r.nextDouble() * 0.01)));
        return new GgmlLinear(m, dtype, ROWS, COLS, 0);
    }

    private Linear symbols(boolean nibbles, long groupSize, Random r) {
        MemorySegment m = randomBytes(nibbles ? (long) ROWS * COLS / 2 : (long) ROWS * COLS, r);
        int groups = (int) ((long) ROWS * COLS / groupSize);
        float[] scales = new float[groups], zeros = new float[groups];
        for (int g = 0; g < groups; g++) {
            scales[g] = (float) (0.001 + r.nextDouble() * 0.01);
            zeros[g] = (float) (-r.nextDouble() * 0.05);
        }
        return new SymbolLinear(m, nibbles, ROWS, COLS, 0, nibbles ? 4 : 8, AppliedScheme.ASYM, 1, groupSize, scales, zeros);
    }

    @Benchmark
    public float product() {
        matrix.apply(x, tokens, null, out, workers);
        return out[0];
    }

    @TearDown(Level.Trial)
    public void close() {
        workers.close();
        arena.close();
    }
}
