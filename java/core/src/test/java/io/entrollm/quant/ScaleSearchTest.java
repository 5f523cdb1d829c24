package io.entrollm.quant;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The scale search: consistent symbols, never a worse group than round-to-nearest over the range, better on heavy tails. */
class ScaleSearchTest {
    /** Gaussian weights with a heavy tail: one in {@code outlierEvery} is ten times larger. */
    private static float[] weights(int n, long seed, double mean, int outlierEvery) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (mean + r.nextGaussian() * 0.02 * (r.nextInt(outlierEvery) == 0 ? 10 : 1));
        return w;
    }

    private static double groupError(float[] w, float[] back, int from, int to) {
        double e = 0;
        for (int i = from; i < to; i++) e += ((double) w[i] - back[i]) * ((double) w[i] - back[i]);
        return e;
    }

    @Property(tries = 80)
    void everyGroupIsAtLeastAsGoodAsTheRangeSpanningScale(@ForAll @IntRange(min = 2, max = 8) int bits, @ForAll("schemes") QuantScheme scheme,
                                                          @ForAll("granularities") String granularity, @ForAll boolean halfParams,
                                                          @ForAll @IntRange(min = 0, max = 10_000) int seed) {
        int rows = 6, cols = 128;
        float[] w = weights(rows * cols, seed, scheme == QuantScheme.MIXED ? 0.2 : 0, 40);
        Granularity g = Granularity.parse(granularity);
        QuantizedTensor plain = Quantizer.quantize("w", new long[] {rows, cols}, w, bits, scheme, g, halfParams, false);
        QuantizedTensor searched = Quantizer.quantize("w", new long[] {rows, cols}, w, bits, scheme, g, halfParams, true);
        assertEquals(plain.scheme(), searched.scheme());
        float[] a = Quantizer.dequantize(plain), b = Quantizer.dequantize(searched);
        long gs = searched.groupSize();
        for (int grp = 0; grp < w.length / gs; grp++) {
            int from = (int) (grp * gs), to = (int) (from + gs);
            assertThat(groupError(w, b, from, to)).as("group " + grp).isLessThanOrEqualTo(groupError(w, a, from, to));
            float s = searched.scales()[grp], z = searched.zeros().length > 0 ? searched.zeros()[grp] : 0f;
            if (halfParams) assertEquals(s, Float.float16ToFloat(Float.floatToFloat16(s)), "stored scales are float16 values");
            for (int i = from; i < to; i++) {   // the symbols are the nearest for the chosen parameters, as a decoder assumes
                assertEquals(Quantizer.symbol(searched.scheme(), bits, w[i], s, z), searched.symbols()[i] & 0xFF, "weight " + i);
            }
        }
    }

    @Test
    void onHeavyTailedWeightsTheSearchLowersTheErrorClearly() {
        float[] w = weights(64 * 256, 1, 0, 50);
        for (int bits : new int[] {3, 4}) {
            for (String gran : new String[] {"tensor", "channel", "group:64"}) {
                Granularity g = Granularity.parse(gran);
                double plain = Quantizer.mse(w, Quantizer.quantize("w", new long[] {64, 256}, w, bits, QuantScheme.ASYM, g, false, false));
                double searched = Quantizer.mse(w, Quantizer.quantize("w", new long[] {64, 256}, w, bits, QuantScheme.ASYM, g, false, true));
                assertThat(searched).as(bits + " bits, " + gran).isLessThan(0.9 * plain);
            }
        }
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<QuantScheme> schemes() { return net.jqwik.api.Arbitraries.of(QuantScheme.ASYM, QuantScheme.SYM, QuantScheme.MIXED); }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> granularities() { return net.jqwik.api.Arbitraries.of("tensor", "channel", "group:16", "group:64"); }
}
