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

    /** Squared error weighed by column, in float64. */
    private static double weightedError(float[] w, float[] back, double[] columns, int cols, int from, int to) {
        double e = 0;
        for (int i = from; i < to; i++) e += ((double) w[i] - back[i]) * ((double) w[i] - back[i]) * columns[i % cols];
        return e;
    }

    /** With column weights the searched group is never worse than the range-spanning one under those weights; with equal weights nothing changes. */
    @Property(tries = 60)
    void weighedSearchIsNeverWorseUnderItsWeights(@ForAll @IntRange(min = 2, max = 8) int bits, @ForAll("schemes") QuantScheme scheme,
                                                  @ForAll("granularities") String granularity, @ForAll @IntRange(min = 0, max = 10_000) int seed) {
        int rows = 6, cols = 128;
        float[] w = weights(rows * cols, seed, scheme == QuantScheme.MIXED ? 0.2 : 0, 40);
        Random r = new Random(seed + 1);
        double[] columns = new double[cols], ones = new double[cols];
        for (int c = 0; c < cols; c++) { columns[c] = Math.exp(3 * r.nextGaussian()); ones[c] = 1; }   // input energies spread over decades
        Granularity g = Granularity.parse(granularity);
        long[] shape = {rows, cols};
        QuantizedTensor plain = Quantizer.quantize("w", shape, w, bits, scheme, g, false, false);
        QuantizedTensor weighed = Quantizer.quantize("w", shape, w, bits, scheme, g, false, true, columns);
        float[] a = Quantizer.dequantize(plain), b = Quantizer.dequantize(weighed);
        long gs = weighed.groupSize();
        for (int grp = 0; grp < w.length / gs; grp++) {
            int from = (int) (grp * gs), to = (int) (from + gs);
            assertThat(weightedError(w, b, columns, cols, from, to)).as("group " + grp)
                    .isLessThanOrEqualTo(weightedError(w, a, columns, cols, from, to) * (1 + 1e-12));
        }
        QuantizedTensor unweighed = Quantizer.quantize("w", shape, w, bits, scheme, g, false, true);
        QuantizedTensor equal = Quantizer.quantize("w", shape, w, bits, scheme, g, false, true, ones);
        assertThat(equal.symbols()).isEqualTo(unweighed.symbols());
        assertThat(equal.scales()).isEqualTo(unweighed.scales());
    }

    /**
     * Rows whose outliers sit in a column the inputs amplify: the plain search clips them (the rest fits better), the
     * weighed search keeps them, and has the clearly lower weighed error, as the layer's output error follows it.
     */
    @Test
    void weighingByInputEnergyKeepsTheOutliersThatMatter() {
        int rows = 16, cols = 256;
        float[] w = weights(rows * cols, 3, 0, 1_000_000);
        double[] columns = new double[cols];
        java.util.Arrays.fill(columns, 1);
        columns[7] = 1000;
        for (int row = 0; row < rows; row++) w[row * cols + 7] = 0.25f * (row % 2 == 0 ? 1 : -1);
        long[] shape = {rows, cols};
        for (String gran : new String[] {"channel", "tensor"}) {
            Granularity g = Granularity.parse(gran);
            float[] plain = Quantizer.dequantize(Quantizer.quantize("w", shape, w, 3, QuantScheme.ASYM, g, false, true));
            float[] weighed = Quantizer.dequantize(Quantizer.quantize("w", shape, w, 3, QuantScheme.ASYM, g, false, true, columns));
            assertThat(weightedError(w, weighed, columns, cols, 0, w.length)).as(gran).isLessThan(0.8 * weightedError(w, plain, columns, cols, 0, w.length));
        }
        assertThat(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize("w", shape, w, 3, QuantScheme.ASYM, Granularity.TENSOR, false, true, new double[3])).getMessage())
                .contains("3 column weights for 256 columns");
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<QuantScheme> schemes() { return net.jqwik.api.Arbitraries.of(QuantScheme.ASYM, QuantScheme.SYM, QuantScheme.MIXED); }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> granularities() { return net.jqwik.api.Arbitraries.of("tensor", "channel", "group:16", "group:64"); }
}
