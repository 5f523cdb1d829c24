package io.entrollm.infer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SamplerTest {
    @Test
    void theBuilderChecksItsValuesAndAnUnsetSeedIsRandomButKnown() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().temperature(-1).build());
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().temperature(Float.NaN).build());
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().topP(0).build());
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().topK(-1).build());
        float[] logits = {0.1f, 2f, 0.3f, 1.9f, -1f};
        assertEquals(1, Sampler.builder().build().sample(logits, 0, 5), "unset: greedy");
        Sampler.Builder b = Sampler.builder().temperature(1.5f);
        long seed = b.seed();
        int[] a = new int[20], c = new int[20];
        Sampler s1 = b.build(), s2 = Sampler.builder().temperature(1.5f).seed(seed).build();
        for (int i = 0; i < 20; i++) { a[i] = s1.sample(logits, 0, 5); c[i] = s2.sample(logits, 0, 5); }
        assertThat(a).isEqualTo(c);
    }
}
