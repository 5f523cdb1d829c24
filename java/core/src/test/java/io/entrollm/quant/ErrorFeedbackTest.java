package io.entrollm.quant;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Error feedback (GPTQ) against plain rounding, on the quantity it minimises: the layer's squared output
 * error on the calibration inputs, {@code sum_r (w_r - q_r)^T H (w_r - q_r)} with {@code H} the inputs' mean
 * {@code x x^T}, computed here in float64 from the inputs themselves (not from the code under test).
 */
class ErrorFeedbackTest {
    /** Inputs whose columns share a few common factors (as a layer's activations do), and the mean x x^T of them. */
    private static double[][] correlatedInputs(int tokens, int cols, long seed) {
        Random r = new Random(seed);
        double[][] factors = new double[4][cols];
        for (double[] f : factors) for (int j = 0; j < cols; j++) f[j] = r.nextGaussian();
        double[][] x = new double[tokens][cols];
        for (int t = 0; t < tokens; t++) {
            double[] a = {r.nextGaussian() * 3, r.nextGaussian() * 2, r.nextGaussian(), r.nextGaussian()};
            for (int j = 0; j < cols; j++) {
                double v = 0.3 * r.nextGaussian();
                for (int k = 0; k < 4; k++) v += a[k] * factors[k][j];
                x[t][j] = v;
            }
        }
        return x;
    }

    private static double[] gram(double[][] x) {
        int cols = x[0].length;
        double[] g = new double[cols * cols];
        for (double[] row : x) for (int j = 0; j < cols; j++) for (int k = 0; k < cols; k++) g[j * cols + k] += row[j] * row[k] / x.length;
        return g;
    }

    /** Squared output error over the inputs themselves: sum over tokens and rows of (x . (w_r - q_r))^2 / tokens. */
    private static double outputError(float[] w, QuantizedTensor q, double[][] x, int rows, int cols) {
        float[] back = Quantizer.dequantize(q);
        double sum = 0;
        for (double[] in : x) {
            for (int r = 0; r < rows; r++) {
                double d = 0;
                for (int j = 0; j < cols; j++) d += in[j] * ((double) w[r * cols + j] - back[r * cols + j]);
                sum += d * d;
            }
        }
        return sum / x.length;
    }

    private static float[] weights(int n, long seed) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        return w;
    }

    @Property(tries = 12)
    void correlatedInputsMoveTheOutputsLessThanPlainRounding(@ForAll @IntRange(min = 2, max = 5) int bits, @ForAll boolean grouped,
                                                              @ForAll @IntRange(min = 0, max = 10_000) int seed) {
        int rows = 24, cols = 64;
        float[] w = weights(rows * cols, seed);
        double[][] x = correlatedInputs(400, cols, seed + 1);
        QuantizedTensor plain = Quantizer.quantize("w", new long[] {rows, cols}, w, bits, QuantScheme.ASYM,
                grouped ? Granularity.group(32) : Granularity.TENSOR);
        QuantizedTensor refined = ErrorFeedback.refine(plain, w, gram(x), ErrorFeedback.DEFAULT_DAMPING);
        assertSame(plain.scales(), refined.scales());
        assertSame(plain.zeros(), refined.zeros());
        double before = outputError(w, plain, x, rows, cols), after = outputError(w, refined, x, rows, cols);
        assertThat(after).as("output error with feedback vs plain rounding, %d bits", bits).isLessThan(0.8 * before);
    }

    /** Uncorrelated inputs of equal energy: nothing to spread an error onto, so the symbols are plain rounding's. */
    @Test
    void independentInputsLeavePlainRounding() {
        int rows = 10, cols = 48;
        float[] w = weights(rows * cols, 7);
        double[] identity = new double[cols * cols];
        for (int j = 0; j < cols; j++) identity[j * cols + j] = 2.5;
        for (QuantScheme scheme : new QuantScheme[] {QuantScheme.ASYM, QuantScheme.SYM}) {
            QuantizedTensor plain = Quantizer.quantize("w", new long[] {rows, cols}, w, 3, scheme, Granularity.CHANNEL);
            assertArrayEquals(plain.symbols(), ErrorFeedback.refine(plain, w, identity, ErrorFeedback.DEFAULT_DAMPING).symbols());
        }
    }

    /** Where it does not apply, the tensor comes back as it was. */
    @Test
    void unsignedTensorsAndDeadInputsAreLeftAlone() {
        int rows = 4, cols = 16;
        float[] w = weights(rows * cols, 3);
        for (int i = 0; i < w.length; i++) w[i] = Math.abs(w[i]) + 0.01f;     // one sign: the unsigned scheme
        QuantizedTensor unsigned = Quantizer.quantize("w", new long[] {rows, cols}, w, 4, QuantScheme.MIXED, Granularity.TENSOR);
        assertThat(unsigned.scheme()).isEqualTo(AppliedScheme.UNSIGNED);
        assertSame(unsigned, ErrorFeedback.refine(unsigned, w, gram(correlatedInputs(50, cols, 1)), ErrorFeedback.DEFAULT_DAMPING));
        QuantizedTensor asym = Quantizer.quantize("w", new long[] {rows, cols}, w, 4, QuantScheme.ASYM, Granularity.TENSOR);
        assertSame(asym, ErrorFeedback.refine(asym, w, new double[cols * cols], ErrorFeedback.DEFAULT_DAMPING), "inputs that are always 0");
    }

    @Property(tries = 30)
    void choleskyFactorsReproduceTheMatrix(@ForAll @IntRange(min = 1, max = 30) int n, @ForAll @IntRange(min = 0, max = 10_000) int seed) {
        double[] a = gram(correlatedInputs(3 * n + 5, n, seed));
        for (int j = 0; j < n; j++) a[j * n + j] += 0.1;
        double[] l = ErrorFeedback.cholesky(a, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) v += l[i * n + k] * l[j * n + k];
                assertThat(v).isCloseTo(a[i * n + j], org.assertj.core.data.Offset.offset(1e-9 * (1 + Math.abs(a[i * n + j]))));
                if (j > i) assertThat(l[i * n + j]).isZero();
            }
        }
        double[] u = ErrorFeedback.feedbackFactor(a, n, 0);          // U^T U = (a)^-1, so a U^T U = I
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) {
                    double utu = 0;
                    for (int m = 0; m < n; m++) utu += u[m * n + k] * u[m * n + j];
                    v += a[i * n + k] * utu;
                }
                assertThat(v).isCloseTo(i == j ? 1 : 0, org.assertj.core.data.Offset.offset(1e-6));
            }
        }
    }
}
