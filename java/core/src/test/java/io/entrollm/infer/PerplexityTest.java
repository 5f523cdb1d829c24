package io.entrollm.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.testing.TestModels;
import io.entrollm.tokenizer.ByteLevelBpeTokenizer;
import io.entrollm.tokenizer.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The reference eval sets: token counts and perplexity as transformers reports them, within 0.1%. */
class PerplexityTest {
    static final double PPL_REL_TOLERANCE = 1e-3;

    @ParameterizedTest
    @CsvSource({"moby-dick-100k, moby-dick.txt, 100000", "sotu-test, sotu-test, 0"})
    void matchesTheReference(String set, String path, int maxChars) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile())
                .get("eval_sets").get(set);
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            Tokenizer tok = ByteLevelBpeTokenizer.fromJson(s.tokenizerJson().orElseThrow());
            int[] stream = EvalText.tokens(TestModels.repoRoot().resolve("test-models/eval").resolve(path), tok, 1, maxChars);
            assertEquals(ref.get("tokens").asLong(), stream.length);
            Perplexity.Result r = Perplexity.evaluate(new CpuCausalLm(LlamaWeights.load(s)), stream, 256, null);
            assertEquals(ref.get("scored").asLong(), r.scored());
            assertThat(Math.abs(r.perplexity() / ref.get("ppl").asDouble() - 1)).isLessThan(PPL_REL_TOLERANCE);
        }
    }
}
