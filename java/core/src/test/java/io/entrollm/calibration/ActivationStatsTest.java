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
            Map<String, double[]> s = ActivationStats.collect(lm.source(), tokens, 7, 1, done -> seen[0] = done);
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
}
