package io.entrollm.infer.kernels;

import io.entrollm.codec.SymbolPacking;
import io.entrollm.infer.Linear;
import io.entrollm.infer.Workers;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.quant.QuantizedTensor;
import io.entrollm.quant.Quantizer;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.TensorReader;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.StoredTensor;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every stored-form kernel against a float64 product of the reference dequantization, on random
 * shapes (odd row lengths, fused-row views), every group size and scheme, 1..9 tokens (tiles of 4 and
 * their remainders). Tolerance: float32 accumulation over a row, {@value #TOLERANCE} x sum_i |x_i| x
 * max|w| (the symbol kernels factor each weight into a*q'+b, so the bound is on magnitudes, not on the
 * possibly cancelling result).
 */
class StoredLinearsTest {
    static final double TOLERANCE = 4e-6;
    static final Workers WORKERS = Workers.of(2);

    @AfterAll
    static void close() { WORKERS.close(); }

    /** Checks {@code m} (rows [first, first + rows) of {@code w}) against {@code w} in float64, products and rows. */
    static void check(Linear m, float[] w, int cols, int first, int tokens, long seed, String what) {
        Random r = new Random(seed);
        int rows = m.rows();
        float[] x = new float[tokens * cols], bias = new float[rows], out = new float[tokens * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < rows; i++) bias[i] = (float) r.nextGaussian();
        m.apply(x, tokens, bias, out, WORKERS);
        float maxW = 0;
        for (float v : w) maxW = Math.max(maxW, Math.abs(v));
        for (int t = 0; t < tokens; t++) {
            double absX = 0;
            for (int i = 0; i < cols; i++) absX += Math.abs(x[t * cols + i]);
            for (int o = 0; o < rows; o++) {
                double expected = bias[o];
                for (int i = 0; i < cols; i++) expected += (double) x[t * cols + i] * w[(first + o) * cols + i];
                assertThat(Math.abs(out[t * rows + o] - expected)).as("%s: token %d row %d", what, t, o)
                        .isLessThanOrEqualTo(TOLERANCE * absX * maxW + 1e-6);
            }
        }
        float[] row = new float[cols];
        for (int o = 0; o < rows; o++) {
            m.row(o, row, 0);
            // rows (embedding lookups) are the reference dequantization, bit for bit
            for (int i = 0; i < cols; i++) assertThat(row[i]).as("%s: row %d col %d", what, o, i).isEqualTo(w[(first + o) * cols + i]);
        }
    }

    static MemorySegment segmentOf(byte[] b) { return MemorySegment.ofArray(b); }

    @Property(tries = 60)
    void floatFormats(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 300) int cols,
                      @ForAll @IntRange(min = 1, max = 9) int tokens, @ForAll long seed) {
        Random r = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.05);
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            MemorySegment seg = MemorySegment.ofArray(new byte[(int) dtype.byteSize(w.length)]);
            float[] stored = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                switch (dtype) {
                    case F32 -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, w[i]);
                    case BF16 -> seg.set(TensorReader.I16, 2L * i, FloatBits.floatToBf16(w[i]));
                    default -> seg.set(TensorReader.I16, 2L * i, FloatBits.floatToF16(w[i]));
                }
            }
            TensorReader.readFloats(dtype, seg, 0, stored, 0, w.length);
            int first = rows > 2 ? rows / 3 : 0;
            check(new FloatLinear(seg, dtype, rows - first, cols, first), stored, cols, first, tokens, seed, dtype.name());
        }
    }

    @Property(tries = 80)
    void symbolFormats(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 9) int colUnits,
                       @ForAll @IntRange(min = 2, max = 8) int bits, @ForAll @IntRange(min = 0, max = 4) int schemeAndGrouping,
                       @ForAll @IntRange(min = 1, max = 9) int tokens, @ForAll long seed) {
        int[] groups = {0, -1, 32, 64, 128};               // tensor, channel, group:32/64/128
        int group = groups[schemeAndGrouping];
        int cols = group > 0 ? group * colUnits : 17 * colUnits + (colUnits % 2);   // odd lengths where no group constrains them
        Granularity g = group == 0 ? Granularity.TENSOR : group < 0 ? Granularity.CHANNEL : Granularity.group(group);
        Random r = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02 + (r.nextInt(50) == 0 ? r.nextGaussian() * 0.2 : 0));
        for (QuantScheme scheme : new QuantScheme[] {QuantScheme.ASYM, QuantScheme.SYM, QuantScheme.MIXED}) {
            QuantizedTensor q = Quantizer.quantize("w", new long[] {rows, cols}, w, bits, scheme, g);
            float[] ref = Quantizer.dequantize(q);
            boolean nibbles = bits <= 4 && cols % 2 == 0;
            byte[] stored = nibbles ? SymbolPacking.pack(q.symbols(), bits) : q.symbols();
            int first = rows > 2 ? rows / 2 : 0;
            SymbolLinear m = new SymbolLinear(segmentOf(stored), nibbles, rows - first, cols, first, bits, q.scheme(), q.sign(), q.groupSize(),
                    q.scales(), q.zeros());
            check(m, ref, cols, first, tokens, seed, bits + " bits " + q.scheme() + " " + g + (nibbles ? " nibbles" : " bytes"));
        }
    }

    /**
     * Coded tensors decoded in pieces of two 100-symbol chunks give the rows of the one-piece decode and of the
     * reference dequantization, bit for bit, nibbles and bytes.
     */
    @Test
    void codedTensorsDecodedInPiecesEqualOnePiece(@TempDir Path dir) throws IOException {
        for (int bits : new int[] {3, 6}) {
            Path file = dir.resolve("u" + bits + ".entro");
            CompressOptions o = new CompressOptions(bits, QuantScheme.ASYM, Granularity.CHANNEL, 12, 100, false, CompressOptions.Encoding.HUFFMAN);
            try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
                EntroCompressor.compress(src, file, o, null);
            }
            int checked = 0;
            try (ModelSource src = ModelSources.open(file); Arena arena = Arena.ofShared()) {
                for (String name : src.tensorNames()) {
                    if (!(src.stored(name) instanceof StoredTensor.Coded c) || c.shape().length != 2) continue;
                    int rows = (int) c.shape()[0], cols = (int) c.shape()[1];
                    Linear pieces = new StoredLinears(arena, 200).of(c, 0, rows), whole = new StoredLinears(arena, Integer.MAX_VALUE).of(c, 0, rows);
                    float[] a = new float[cols], b = new float[cols], reference = c.dequantize();
                    for (int row = 0; row < rows; row++) {
                        pieces.row(row, a, 0);
                        whole.row(row, b, 0);
                        assertThat(a).as("%s row %d, %d bits", name, row, bits).isEqualTo(b)
                                .isEqualTo(java.util.Arrays.copyOfRange(reference, row * cols, (row + 1) * cols));
                    }
                    checked++;
                }
            }
            assertThat(checked).as("coded matrices at %d bits", bits).isGreaterThan(0);
        }
    }

    /** Nibble packing (eight symbols a step, pieces on all cores) equals SymbolPacking's, at odd lengths and offsets. */
    @Property(tries = 60)
    void nibblePackingEqualsTheReference(@ForAll @IntRange(min = 0, max = 300_000) int n, @ForAll @IntRange(min = 0, max = 3) int at,
                                         @ForAll long seed) {
        byte[] symbols = new byte[n];
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) symbols[i] = (byte) r.nextInt(16);
        byte[] expected = SymbolPacking.pack(symbols, 4);
        MemorySegment out = MemorySegment.ofArray(new byte[at + expected.length]);
        StoredLinears.packNibbles(symbols, n, out, at);
        assertThat(out.asSlice(at).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
    }

    @Property(tries = 60)
    void ggmlBlocks(@ForAll @IntRange(min = 1, max = 30) int rows, @ForAll @IntRange(min = 1, max = 8) int blocks,
                    @ForAll @IntRange(min = 1, max = 9) int tokens, @ForAll long seed) {
        int cols = 32 * blocks;
        Random r = new Random(seed);
        for (DType dtype : new DType[] {DType.Q8_0, DType.Q4_0, DType.Q4_1}) {
            byte[] data = new byte[rows * blocks * dtype.blockBytes()];
            r.nextBytes(data);
            MemorySegment seg = MemorySegment.ofArray(data);
            for (int b = 0; b < rows * blocks; b++) {   // finite, realistic scales and minimums
                long at = (long) b * dtype.blockBytes();
                seg.set(TensorReader.I16, at, FloatBits.floatToF16((float) (r.nextDouble() * 0.01)));
                if (dtype == DType.Q4_1) seg.set(TensorReader.I16, at + 2, FloatBits.floatToF16((float) (-r.nextDouble() * 0.08)));
            }
            float[] ref = new float[rows * cols];
            TensorReader.readFloats(dtype, seg, 0, ref, 0, ref.length);
            int first = rows > 2 ? rows / 3 : 0;
            check(new GgmlLinear(seg, dtype, rows - first, cols, first), ref, cols, first, tokens, seed, dtype.name());
        }
    }

    @Property(tries = 30)
    void otherGgmlBlocksDequantizedPerRow(@ForAll @IntRange(min = 1, max = 12) int rows, @ForAll @IntRange(min = 1, max = 3) int blocks,
                                          @ForAll @IntRange(min = 1, max = 9) int tokens, @ForAll long seed) {
        Random r = new Random(seed);
        for (DType dtype : new DType[] {DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q8_K}) {
            int cols = dtype.blockElements() * blocks;
            byte[] data = new byte[rows * blocks * dtype.blockBytes()];
            r.nextBytes(data);
            MemorySegment seg = MemorySegment.ofArray(data);
            // the f16 (Q8_K: f32) super-block scales and minimums at their ggml-common.h offsets: finite and realistic
            int[] halves = switch (dtype) {
                case Q5_0 -> new int[] {0};
                case Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
                case Q2_K -> new int[] {80, 82};
                case Q3_K -> new int[] {108};
                case Q6_K -> new int[] {208};
                default -> new int[0];
            };
            for (int b = 0; b < rows * blocks; b++) {
                long at = (long) b * dtype.blockBytes();
                for (int h : halves) seg.set(TensorReader.I16, at + h, FloatBits.floatToF16((float) (r.nextDouble() * 0.001)));
                if (dtype == DType.Q8_K) seg.set(TensorReader.F32, at, (float) (r.nextDouble() * 0.001));
            }
            float[] ref = new float[rows * cols];
            TensorReader.readFloats(dtype, seg, 0, ref, 0, ref.length);
            int first = rows > 2 ? rows / 3 : 0;
            check(new BlockRowLinear(seg, dtype, rows - first, cols, first), ref, cols, first, tokens, seed, dtype.name());
        }
    }
}
