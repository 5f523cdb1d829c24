package io.entrollm.gpu;

import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Quantizer;
import io.entrollm.tensor.FloatBits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels of cuda-kernels/gemv.cu against CPU references: matmuls from every weight form against
 * float64 sums of the CPU's dequantized weights (odd shapes, row views of fused tensors, group sizes
 * that take the fast and the element-wise path, token counts across register batches), embedding rows
 * and f16 copies bit for bit.
 */
@Tag("gpu")
class GpuGemvTest {
    /**
     * Per output: float32 accumulation in a different order, and the packed forms' factorisation
     * {@code a * sum q x + b * sum x}: relative to the sum of the magnitudes of the terms.
     */
    static final double TOLERANCE = 1e-5;
    static CudaContext ctx;

    @BeforeAll
    static void open() { ctx = GpuTests.openOrSkip(); }

    @AfterAll
    static void close() { if (ctx != null) ctx.close(); }

    /**
     * A tensor in one form, with its values as the CPU dequantizes them and, for packed forms, each
     * value's offset b in {@code value = a * symbol + b} (zero for halves).
     */
    record Weights(GpuWeight weight, float[] values, float[] offsets, DeviceBuffer[] buffers) implements AutoCloseable {
        @Override
        public void close() { for (DeviceBuffer b : buffers) b.close(); }
    }

    static Weights packed(GpuWeight.Form form, AppliedScheme scheme, int bits, int sign, long n, long groupSize, Random r) {
        byte[] data = new byte[Math.toIntExact(form == GpuWeight.Form.U4 ? (n + 1) / 2 : n)];
        int[] q = new int[(int) n];
        for (int i = 0; i < n; i++) {
            q[i] = r.nextInt(1 << bits);
            if (form == GpuWeight.Form.U4) data[i / 2] |= (byte) (q[i] << (4 * (i % 2)));
            else data[i] = (byte) q[i];
        }
        int groups = (int) (n / groupSize);
        float[] params = new float[2 * groups];
        for (int g = 0; g < groups; g++) {
            params[g] = 0.001f + 0.02f * r.nextFloat();
            params[groups + g] = -0.1f + 0.2f * r.nextFloat();
        }
        float[] values = new float[(int) n], offsets = new float[(int) n];
        for (int i = 0; i < n; i++) {
            int g = (int) (i / groupSize);
            values[i] = Quantizer.dequantize(scheme, bits, q[i], params[g], params[groups + g], sign);
            offsets[i] = switch (scheme) {
                case ASYM -> params[groups + g];
                case SYM -> -Quantizer.symOffset(bits) * params[g];
                default -> 0;
            };
        }
        DeviceBuffer d = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(data), "symbols");
        DeviceBuffer p = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(params), "scales");
        GpuWeight w = new GpuWeight(form, d.whole(), p.address(), scheme == AppliedScheme.ASYM ? p.address() + 4L * groups : 0, n, groupSize, bits,
                scheme.id(), sign, data.length + 4L * params.length);
        return new Weights(w, values, offsets, new DeviceBuffer[] {d, p});
    }

    static Weights halves(GpuWeight.Form form, long n, Random r) {
        short[] h = new short[(int) n];
        float[] values = new float[(int) n];
        for (int i = 0; i < n; i++) {
            float v = (float) (r.nextGaussian() * 0.05);
            h[i] = form == GpuWeight.Form.F16 ? FloatBits.floatToF16(v) : FloatBits.floatToBf16(v);
            values[i] = form == GpuWeight.Form.F16 ? Float.float16ToFloat(h[i]) : Float.intBitsToFloat(h[i] << 16);
        }
        DeviceBuffer d = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(h), "halves");
        return new Weights(GpuWeight.plain(form, d.whole(), n), values, new float[(int) n], new DeviceBuffer[] {d});
    }

    static Weights weights(String form, String scheme, int bits, long n, long groupSize, Random r) {
        return switch (form) {
            case "f16" -> halves(GpuWeight.Form.F16, n, r);
            case "bf16" -> halves(GpuWeight.Form.BF16, n, r);
            default -> packed(GpuWeight.Form.valueOf(form.toUpperCase()), AppliedScheme.valueOf(scheme.toUpperCase()), bits,
                    scheme.equals("unsigned") ? -1 : 1, n, groupSize, r);
        };
    }

    /**
     * Rows {@code [firstRow, firstRow + rows)} of a {@code tensorRows x cols} tensor times 1, 3 and 11
     * tokens (one, one partial and two register batches). Group sizes: multiples of 8 take the unit path,
     * others (and cols not a multiple of 8) the element-wise path; 296 and 40 groups span rows.
     */
    @ParameterizedTest(name = "{0} {1} {2}-bit, {3}x{4} rows {5}+{6}, group {7}")
    @CsvSource({
            "u8, asym, 8, 37, 72, 0, 37, 72", "u8, sym, 6, 37, 72, 0, 37, 296", "u8, unsigned, 5, 37, 72, 0, 37, 9",
            "u4, asym, 4, 37, 72, 0, 37, 2664", "u4, sym, 4, 30, 64, 5, 20, 40", "u4, unsigned, 3, 13, 100, 0, 13, 100",
            "u4, asym, 2, 13, 100, 2, 9, 4", "u8, asym, 8, 1, 8, 0, 1, 8",
            "f16, -, 0, 37, 72, 0, 37, 0", "f16, -, 0, 13, 100, 3, 7, 0", "bf16, -, 0, 30, 64, 5, 20, 0", "bf16, -, 0, 13, 100, 0, 13, 0"})
    void gemvMatchesTheFloat64Reference(String form, String scheme, int bits, int tensorRows, int cols, int firstRow, int rows, long groupSize) {
        Random r = new Random(tensorRows * 31L + cols + groupSize);
        try (Weights w = weights(form, scheme, bits, (long) tensorRows * cols, groupSize, r); CudaStream s = new CudaStream()) {
            GemvLauncher gemv = new GemvLauncher(ctx);
            for (int tokens : new int[] {1, 3, 11}) {
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                try (DeviceBuffer dx = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(x), "x");
                     DeviceBuffer dy = DeviceBuffer.allocate(ctx, 4L * tokens * rows, "y")) {
                    gemv.gemv(w.weight(), firstRow, rows, cols, dx.whole(), dy.whole(), tokens, s);
                    s.synchronize();
                    float[] y = dy.downloadFloats();
                    for (int t = 0; t < tokens; t++) {
                        for (int o = 0; o < rows; o++) {
                            double ref = 0, magnitude = 0;
                            for (int c = 0; c < cols; c++) {
                                int i = (firstRow + o) * cols + c;
                                double v = w.values()[i], xv = x[t * cols + c];
                                ref += v * xv;
                                // the factorised sums' terms: |a q| + |b| <= |v| + 2 |b|
                                magnitude += (Math.abs(v) + 2 * Math.abs(w.offsets()[i])) * Math.abs(xv);
                            }
                            double got = y[t * rows + o];
                            assertTrue(Math.abs(got - ref) <= TOLERANCE * magnitude,
                                    form + " token " + t + " row " + o + ": " + got + " vs " + ref + " (terms " + magnitude + ")");
                        }
                    }
                }
            }
        }
    }

    /** Embedding rows gathered from packed and half forms equal the CPU's dequantized rows bit for bit. */
    @ParameterizedTest
    @CsvSource({"u8, asym, 7, 24", "u4, sym, 4, 12", "u4, unsigned, 2, 300", "f16, -, 0, 0", "bf16, -, 0, 0"})
    void embeddingRowsEqualTheCpu(String form, String scheme, int bits, long groupSize) {
        int vocab = 50, dim = 60;
        Random r = new Random(7);
        int[] tokens = {0, 49, 7, 7, 23};
        try (Weights w = weights(form, scheme, bits, (long) vocab * dim, groupSize, r); CudaStream s = new CudaStream();
             DeviceBuffer ids = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(tokens), "ids");
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * tokens.length * dim, "rows")) {
            new GemvLauncher(ctx).embed(w.weight(), vocab, dim, ids.whole(), out.whole(), tokens.length, s);
            s.synchronize();
            float[] rows = out.downloadFloats();
            for (int t = 0; t < tokens.length; t++) {
                for (int i = 0; i < dim; i++) {
                    assertEquals(Float.floatToIntBits(w.values()[tokens[t] * dim + i]), Float.floatToIntBits(rows[t * dim + i]), "token " + t + " element " + i);
                }
            }
        }
    }

    /** The prompt path's copies: weights rounded to f16 (nearest even), activations split exactly into hi + lo. */
    @Test
    void f16CopiesRoundToNearestEven() {
        Random r = new Random(3);
        int rows = 9, cols = 40, firstRow = 2;
        try (Weights w = packed(GpuWeight.Form.U8, AppliedScheme.ASYM, 8, 1, 12L * cols, 40, r); CudaStream s = new CudaStream();
             DeviceBuffer h = DeviceBuffer.allocate(ctx, 2L * rows * cols, "f16")) {
            GemvLauncher gemv = new GemvLauncher(ctx);
            gemv.toF16(w.weight(), firstRow, rows, cols, h.whole(), s);
            s.synchronize();
            short[] got = h.downloadShorts();
            for (int i = 0; i < rows * cols; i++) assertEquals(FloatBits.floatToF16(w.values()[firstRow * cols + i]), got[i], "weight " + i);
            float[] x = new float[1000];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(6) - 3));
            try (DeviceBuffer dx = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(x), "x"); DeviceBuffer hi = DeviceBuffer.allocate(ctx, 2000, "hi");
                 DeviceBuffer lo = DeviceBuffer.allocate(ctx, 2000, "lo")) {
                gemv.splitF16(dx.whole(), hi.whole(), lo.whole(), x.length, s);
                s.synchronize();
                short[] his = hi.downloadShorts(), los = lo.downloadShorts();
                for (int i = 0; i < x.length; i++) {
                    short expectHi = FloatBits.floatToF16(x[i]);
                    assertEquals(expectHi, his[i], "hi " + i);
                    assertEquals(FloatBits.floatToF16(x[i] - Float.float16ToFloat(expectHi)), los[i], "lo " + i);
                }
            }
        }
    }
}
