package io.entrollm.gpu;

import io.entrollm.tensor.FloatBits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** cuBLAS GemmEx on fp16/bf16 weights against a float64 CPU reference. */
@Tag("gpu")
class GpuGemmTest {
    /** fp16/bf16 products are exact in fp32; what remains is fp32 accumulation over k terms. */
    static final double REL_L2_TOLERANCE = 1e-5;
    static CudaContext ctx;

    @BeforeAll
    static void open() { ctx = GpuTests.openOrSkip(); }

    @AfterAll
    static void close() { if (ctx != null) ctx.close(); }

    /** Each cuBLAS binding: both load on the simulator; a real CUDA 13 host has no libcublas.so.12 for JCublas. */
    @ParameterizedTest
    @ValueSource(strings = {"bytedeco", "jcublas"})
    void linearMatchesFloat64(String binding) {
        check(binding, false);
        check(binding, true);
    }

    private void check(String binding, boolean bf16) {
        int out = 96, in = 200, tokens = 5;
        Random r = new Random(bf16 ? 2 : 1);
        short[] w = new short[out * in], x = new short[tokens * in];
        for (int i = 0; i < w.length; i++) w[i] = conv((float) (r.nextGaussian() * 0.05), bf16);
        for (int i = 0; i < x.length; i++) x[i] = conv((float) r.nextGaussian(), bf16);
        double[] expected = new double[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += (double) back(w[o * in + i], bf16) * back(x[t * in + i], bf16);
                expected[t * out + o] = s;
            }
        }
        int type = bf16 ? Blas.R_16BF : Blas.R_16F;
        try (Blas blas = GpuTests.openBlasOrSkip(ctx, binding); CudaStream stream = new CudaStream();
             DeviceBuffer dw = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(w), "W");
             DeviceBuffer dx = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(x), "X");
             DeviceBuffer dy = DeviceBuffer.allocate(ctx, 4L * tokens * out, "Y")) {
            blas.setStream(stream);
            blas.linear(dw.whole(), dx.whole(), type, dy.whole(), Blas.R_32F, out, in, tokens);
            stream.synchronize();
            float[] y = dy.downloadFloats();
            double num = 0, den = 0;
            for (int i = 0; i < y.length; i++) {
                num += (y[i] - expected[i]) * (y[i] - expected[i]);
                den += expected[i] * expected[i];
            }
            assertThat(Math.sqrt(num / den)).as(blas.binding()).isLessThan(REL_L2_TOLERANCE);
        }
    }

    private static short conv(float v, boolean bf16) { return bf16 ? FloatBits.floatToBf16(v) : FloatBits.floatToF16(v); }

    private static float back(short v, boolean bf16) { return bf16 ? FloatBits.bf16ToFloat(v) : FloatBits.f16ToFloat(v); }
}
