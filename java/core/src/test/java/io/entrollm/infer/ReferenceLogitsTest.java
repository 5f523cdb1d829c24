package io.entrollm.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.model.GgufConverter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.testing.TestModels;
import io.entrollm.tokenizer.ByteLevelBpeTokenizer;
import io.entrollm.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The CPU forward pass against Hugging Face transformers' fp32 outputs (reference.json): last-position
 * logits within 1e-3 relative L2, greedy 32-token continuations identical.
 */
class ReferenceLogitsTest {
    static final double LOGITS_REL_L2 = 1e-3;
    static JsonNode reference;
    @TempDir static Path tmp;

    @BeforeAll
    static void load() throws IOException {
        reference = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile());
    }

    static double relL2(float[] actual, JsonNode expected) {
        double num = 0, den = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = expected.get(i).asDouble(), d = actual[i] - e;
            num += d * d;
            den += e * e;
        }
        return Math.sqrt(num / den);
    }

    /** The float32 reference and the engine that computes from the stored form both reproduce transformers. */
    static void checkModel(ModelSource source) {
        Tokenizer tok = ByteLevelBpeTokenizer.fromJson(source.tokenizerJson().orElseThrow());
        for (boolean stored : new boolean[] {false, true}) {
            try (CpuCausalLm lm = new CpuCausalLm(stored ? LlamaWeights.loadStored(source) : LlamaWeights.load(source))) {
                for (JsonNode p : reference.get("prompts")) {
                    int[] ids = tok.encode(p.get("text").asText());
                    assertArrayEquals(io.entrollm.testing.Fixtures.ints(p.get("ids")), ids, "tokenization of: " + p.get("text").asText());
                    lm.startSequence(ids.length);
                    float[] logits = lm.forward(ids, 0, 1);
                    String what = (stored ? "stored form: " : "float32: ") + p.get("text").asText();
                    assertThat(relL2(logits, p.get("last_logits"))).as(what).isLessThan(LOGITS_REL_L2);
                    Generator.Result g = Generator.generate(lm, ids, 32, Sampler.greedy(), Set.of(), null);
                    assertArrayEquals(io.entrollm.testing.Fixtures.ints(p.get("greedy32")), g.tokens(), "greedy continuation, " + what);
                }
            }
        }
    }

    @Test
    void safetensorsMatchesTransformers() throws IOException {
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            checkModel(s);
        }
    }

    @Test
    void ggufConversionMatchesTransformers() throws IOException {
        Path gguf = tmp.resolve("m.gguf");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(s, gguf, GgufConverter.OutType.SOURCE);
        }
        try (ModelSource s = ModelSources.openHuggingFace(gguf)) {
            checkModel(s);
        }
    }
}
