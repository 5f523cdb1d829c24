package io.entrollm.bench;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanDecoder;
import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.SymbolHistogram;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.quant.Quantizer;
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

import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * CPU Huffman encode and decode of one 4096 x 1024 weight matrix (4 Mi symbols) quantized per
 * tensor (asym) from Gaussian weights, at 8 and 4 bits, on 1 thread and on all threads. Scores are
 * seconds per operation; BENCHMARKS.md converts them to symbols/s and MB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
public class HuffmanCodecBenchmark {
    public static final int ROWS = 4096, COLS = 1024;

    @Param({"8", "4"})
    public int bits;

    @Param({"1", "2"})
    public int threads;

    private byte[] symbols;
    private HuffmanCodebook codebook;
    private HuffmanStream stream;
    private ForkJoinPool pool;

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(7);
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        symbols = Quantizer.quantize("w", new long[] {ROWS, COLS}, w, bits, QuantScheme.ASYM, Granularity.TENSOR).symbols();
        codebook = HuffmanCodebook.build(SymbolHistogram.of(symbols, 1 << bits), HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH);
        stream = HuffmanEncoder.encode(symbols, codebook, HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS);
        pool = new ForkJoinPool(threads); // parallel streams started inside run on this pool
    }

    @TearDown(Level.Trial)
    public void tearDown() { pool.shutdownNow(); }

    @Benchmark
    public HuffmanStream encode() throws ExecutionException, InterruptedException {
        return pool.submit(() -> HuffmanEncoder.encode(symbols, codebook, HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS)).get();
    }

    @Benchmark
    public byte[] decode() throws ExecutionException, InterruptedException {
        return pool.submit(() -> HuffmanDecoder.decode(stream)).get();
    }
}
