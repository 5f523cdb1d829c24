package io.entrollm.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.testing.TestModels;
import io.entrollm.tokenizer.ByteLevelBpeTokenizer;
import io.entrollm.tokenizer.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The reference eval sets: token counts and perplexity as transformers reports them, within 0.1% (the
 * float32 reference engine on one set, the engine that computes from the stored form on the other);
 * and quantized .entro files through the stored-form engine within {@value #README_REL_TOLERANCE} of
 * the perplexities the README reports for them (measured with the float32 reference engine).
 */
class PerplexityTest {
    static final double PPL_REL_TOLERANCE = 1e-3;
    static final double README_REL_TOLERANCE = 2e-3;
    @TempDir static Path tmp;

    @ParameterizedTest
    @CsvSource({"moby-dick-100k, moby-dick.txt, 100000, false", "sotu-test, sotu-test, 0, true"})
    void matchesTheReference(String set, String path, int maxChars, boolean stored) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile())
                .get("eval_sets").get(set);
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            Tokenizer tok = ByteLevelBpeTokenizer.fromJson(s.tokenizerJson().orElseThrow());
            int[] stream = EvalText.tokens(TestModels.repoRoot().resolve("test-models/eval").resolve(path), tok, 1, maxChars);
            assertEquals(ref.get("tokens").asLong(), stream.length);
            Perplexity.Result r;
            try (CpuCausalLm lm = new CpuCausalLm(stored ? LlamaWeights.loadStored(s) : LlamaWeights.load(s))) {
                r = Perplexity.evaluate(lm, stream, 256, null);
            }
            assertEquals(ref.get("scored").asLong(), r.scored());
            assertThat(Math.abs(r.perplexity() / ref.get("ppl").asDouble() - 1)).isLessThan(PPL_REL_TOLERANCE);
        }
    }

    /** README "Quality of compressed models": compress --bits B --scheme mixed --granularity G, sotu-test. */
    @ParameterizedTest
    @CsvSource({"8, tensor, 39.8164", "4, group:128, 40.3718"})
    void compressedFormatsKeepTheirPerplexity(int bits, String granularity, double readme) throws IOException {
        Path entro = tmp.resolve("u" + bits + "-" + granularity.replace(':', '_') + ".entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, CompressOptions.defaults(bits, QuantScheme.MIXED, Granularity.parse(granularity)), null);
        }
        try (LanguageModel lm = LanguageModel.load(entro); LanguageModel.Session session = lm.openCpuSession()) {
            int[] stream = EvalText.tokens(TestModels.repoRoot().resolve("test-models/eval/sotu-test"), lm.tokenizer(), 1, 0);
            assertThat(Math.abs(session.perplexity(stream, 256, null).perplexity() / readme - 1)).isLessThan(README_REL_TOLERANCE);
        }
    }
}
