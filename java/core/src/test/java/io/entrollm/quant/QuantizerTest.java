package io.entrollm.quant;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The quantizer against an independent transcription of the formulas in docs/FORMAT.md. */
class QuantizerTest {

    private static float[] weights(int n, long seed, double mean) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (mean + r.nextGaussian() * 0.05);
        return w;
    }

    /** C's roundf, written differently from the implementation (via BigDecimal). */
    private static float roundf(float x) {
        return new java.math.BigDecimal(x).setScale(0, java.math.RoundingMode.HALF_UP).floatValue();
    }

    @Test
    void roundsHalfAwayFromZero() {
        assertEquals(3f, Quantizer.roundHalfAway(2.5f));
        assertEquals(-3f, Quantizer.roundHalfAway(-2.5f));
        assertEquals(0f, Quantizer.roundHalfAway(0.49999997f));
        assertEquals(1f, Quantizer.roundHalfAway(0.5f));
        assertEquals(8388609f, Quantizer.roundHalfAway(8388609f));
    }

    @Property(tries = 120)
    void symbolsAndDequantizationFollowTheFormulasExactly(
            @ForAll @IntRange(min = 2, max = 8) int bits,
            @ForAll("schemes") AppliedScheme scheme,
            @ForAll @IntRange(min = 1, max = 24) int rows,
            @ForAll @IntRange(min = 0, max = 1000) int seed,
            @ForAll("granularities") String granularity,
            @ForAll boolean halfParams) {
        int cols = 64;
        double mean = scheme == AppliedScheme.UNSIGNED ? (seed % 2 == 0 ? 0.5 : -0.5) : 0;
        float[] w = weights(rows * cols, seed, mean);
        QuantScheme requested = switch (scheme) {
            case ASYM -> QuantScheme.ASYM;
            case SYM -> QuantScheme.SYM;
            case UNSIGNED -> QuantScheme.MIXED;
        };
        Granularity g = Granularity.parse(granularity);
        QuantizedTensor q = Quantizer.quantize("w", new long[] {rows, cols}, w, bits, requested, g, halfParams);
        assertEquals(scheme, q.scheme());
        long groupSize = g.weightsPerGroup(rows, cols, "w");
        int levels = (1 << bits) - 1, half = (1 << (bits - 1)) - 1;
        float[] deq = Quantizer.dequantize(q);
        for (int grp = 0; grp < w.length / groupSize; grp++) {
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE, amax = 0;
            for (int i = (int) (grp * groupSize); i < (grp + 1) * groupSize; i++) {
                min = Math.min(min, w[i]); max = Math.max(max, w[i]); amax = Math.max(amax, Math.abs(w[i]));
            }
            float exact = switch (scheme) {
                case ASYM -> (max - min) / levels;
                case SYM -> amax / half;
                case UNSIGNED -> amax / levels;
            };
            // f16 parameters: scale and zero rounded to float16 first, symbols the nearest for the rounded values
            float s = halfParams ? f16(exact) : exact, zero = halfParams ? f16(min) : min;
            assertEquals(s, q.scales()[grp]);
            if (scheme == AppliedScheme.ASYM) assertEquals(zero, q.zeros()[grp]);
            for (int i = (int) (grp * groupSize); i < (grp + 1) * groupSize; i++) {
                int sym = q.symbols()[i] & 0xFF;
                float expected;
                switch (scheme) {
                    case ASYM -> {
                        assertEquals((int) Math.max(0, Math.min(levels, roundf((w[i] - zero) / s))), sym);
                        expected = sym * s + zero;
                    }
                    case SYM -> {
                        assertEquals((int) Math.max(-half, Math.min(half, roundf(w[i] / s))) + half, sym);
                        expected = (sym - half) * s;
                    }
                    default -> {
                        assertEquals((int) Math.min(levels, roundf(Math.abs(w[i]) / s)), sym);
                        expected = (mean > 0 ? 1 : -1) * (sym * s);
                    }
                }
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(deq[i]), "weight " + i);
                // and the error is within half a step, plus float32 rounding: the quotient (w - min) / s may be
                // off by 2 ulp relative (up to `levels` steps times 2^-23), and the dequantization's multiply and
                // add round by half an ulp each of values no larger than max(|w|, |deq|) + s.
                double magnitude = Math.max(Math.abs(w[i]), Math.abs(deq[i])) + s;
                double bound = s * (0.5 + levels * 0x1p-22) + Math.ulp((float) magnitude)
                        + Math.abs((double) zero - min) + levels * Math.abs((double) exact - s);   // what rounding to f16 moves
                assertThat(Math.abs((double) deq[i] - w[i])).isLessThanOrEqualTo(bound);
            }
        }
    }

    private static float f16(float v) { return Float.float16ToFloat(Float.floatToFloat16(v)); }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<AppliedScheme> schemes() { return net.jqwik.api.Arbitraries.of(AppliedScheme.values()); }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> granularities() { return net.jqwik.api.Arbitraries.of("tensor", "channel", "group:16", "group:64"); }

    @Test
    void mixedUsesUnsignedOnlyForSingleSignedTensors() {
        float[] positive = weights(256, 1, 1.0);
        float[] mixed = weights(256, 2, 0.0);
        assertEquals(AppliedScheme.UNSIGNED, Quantizer.quantize("p", new long[] {4, 64}, positive, 4, QuantScheme.MIXED, Granularity.TENSOR).scheme());
        assertEquals(AppliedScheme.ASYM, Quantizer.quantize("m", new long[] {4, 64}, mixed, 4, QuantScheme.MIXED, Granularity.TENSOR).scheme());
    }

    @Test
    void autoPicksTheLowestError() {
        float[] w = weights(4096, 3, 0.01);
        QuantizedTensor auto = Quantizer.quantize("w", new long[] {64, 64}, w, 4, QuantScheme.AUTO, Granularity.TENSOR);
        double autoMse = Quantizer.mse(w, auto);
        for (QuantScheme s : new QuantScheme[] {QuantScheme.ASYM, QuantScheme.SYM}) {
            assertThat(autoMse).isLessThanOrEqualTo(Quantizer.mse(w, Quantizer.quantize("w", new long[] {64, 64}, w, 4, s, Granularity.TENSOR)));
        }
    }

    @Test
    void badArgumentsAreNamed() {
        float[] w = weights(300, 1, 0);
        assertThat(assertThrows(IllegalArgumentException.class, () ->
                Quantizer.quantize("layer.w", new long[] {3, 100}, w, 4, QuantScheme.ASYM, Granularity.group(64))).getMessage())
                .contains("layer.w").contains("group size 64 does not divide the row length 100");
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize("w", new long[] {3, 100}, w, 9, QuantScheme.ASYM, Granularity.TENSOR));
        w[5] = Float.NaN;
        assertThat(assertThrows(IllegalArgumentException.class, () ->
                Quantizer.quantize("w", new long[] {3, 100}, w, 4, QuantScheme.ASYM, Granularity.TENSOR)).getMessage()).contains("non-finite");
    }

    @Test
    void constantGroupsDequantizeExactly() {
        float[] w = new float[128];
        java.util.Arrays.fill(w, 0.25f);
        for (QuantScheme s : QuantScheme.values()) {
            QuantizedTensor q = Quantizer.quantize("c", new long[] {2, 64}, w, 4, s, Granularity.CHANNEL);
            assertThat(Quantizer.mse(w, q)).as(s.name()).isLessThan(1e-12);
        }
    }
}
