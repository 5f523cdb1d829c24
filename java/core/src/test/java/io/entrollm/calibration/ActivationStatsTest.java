package io.entrollm.calibration;

import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Input statistics of sotu-tiny's layers over a few sentences. */
class ActivationStatsTest {
    @Test
    void everyLayerMatrixGetsTheMeanSquareOfItsInputs() throws IOException {
        try (LanguageModel lm = LanguageModel.load(TestModels.sotuTiny())) {
            int[] tokens = lm.tokenizer().encode("The state of the Union is strong. We will keep our promises to the American people, and we will build.");
            int[] seen = new int[1];
            Map<String, double[]> s = ActivationStats.collectInputs(lm.source(), tokens, 7, 1, done -> seen[0] = done, false).meanSquares();
            assertEquals(tokens.length, seen[0]);
            LlamaLayout layout = LlamaLayout.of(lm.source());
            assertEquals(7 * layout.layers.length, s.size());
            for (LlamaLayout.Layer L : layout.layers) {
                for (LlamaLayout.WeightRef r : LlamaLayout.matrices(L)) {
                    double[] m = s.get(r.tensor());
                    assertEquals(r.cols(), m.length, r.tensor());
                    for (double v : m) assertThat(v).isGreaterThanOrEqualTo(0).isFinite();
                    assertThat(java.util.Arrays.stream(m).sum()).as(r.tensor()).isGreaterThan(0);
                }
                // q, k and v read the same normed input, as do gate and up
                assertArrayEquals(s.get(L.wq().tensor()), s.get(L.wk().tensor()), 1e-12);
                assertArrayEquals(s.get(L.wq().tensor()), s.get(L.wv().tensor()), 1e-12);
                assertArrayEquals(s.get(L.wGate().tensor()), s.get(L.wUp().tensor()), 1e-12);
            }
        }
    }

    /** The mean x x^T each input gives error feedback: symmetric, its diagonal the mean squares, one array per shared input. */
    @Test
    void gramsAgreeWithTheMeanSquaresAndAreSharedByMatricesReadingOneInput() throws IOException {
        try (LanguageModel lm = LanguageModel.load(TestModels.sotuTiny())) {
            int[] tokens = lm.tokenizer().encode("The state of the Union is strong. We will keep our promises to the American people.");
            ActivationStats.Inputs in = ActivationStats.collectInputs(lm.source(), tokens, 5, 1, null, true);
            LlamaLayout layout = LlamaLayout.of(lm.source());
            for (LlamaLayout.Layer L : layout.layers) {
                for (LlamaLayout.WeightRef r : LlamaLayout.matrices(L)) {
                    double[] g = in.grams().get(r.tensor()), m = in.meanSquares().get(r.tensor());
                    int n = (int) r.cols();
                    assertEquals((long) n * n, g.length, r.tensor());
                    for (int j = 0; j < n; j++) {
                        assertEquals(m[j], g[j * n + j], 1e-9 * (1 + m[j]), r.tensor() + " diagonal " + j);
                        for (int k = 0; k < j; k++) assertEquals(g[j * n + k], g[k * n + j], 0, r.tensor());
                        for (int k = 0; k < n; k++) assertThat(g[j * n + k] * g[j * n + k]).isLessThanOrEqualTo(g[j * n + j] * g[k * n + k] * (1 + 1e-9) + 1e-30);
                    }
                }
                assertThat(in.grams().get(L.wk().tensor())).isSameAs(in.grams().get(L.wq().tensor()));
                assertThat(in.grams().get(L.wv().tensor())).isSameAs(in.grams().get(L.wq().tensor()));
                assertThat(in.grams().get(L.wUp().tensor())).isSameAs(in.grams().get(L.wGate().tensor()));
            }
            assertThat(ActivationStats.collectInputs(lm.source(), tokens, 5, 1, null, false).grams()).isEmpty();
        }
    }
}
