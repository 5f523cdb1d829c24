package io.entrollm.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Mistral, Qwen2 (q/k/v biases), Phi-3 (fused qkv and gate_up) and Llama 3 RoPE scaling against tiny
 * random models whose reference outputs come from transformers (test-models/synthetic/make_reference.py,
 * run where PyTorch is installed). Skips, saying so, until those fixtures have been generated.
 */
class ReferenceArchitecturesTest {
    static final double LOGITS_REL_L2 = 1e-3;

    @ParameterizedTest
    @ValueSource(strings = {"mistral-tiny", "qwen2-tiny", "phi3-tiny", "llama3-tiny"})
    void cpuForwardMatchesTransformers(String name) throws IOException {
        Path dir = TestModels.repoRoot().resolve("test-models/synthetic").resolve(name);
        assumeTrue(Files.exists(dir.resolve("reference.json")),
                () -> "fixture " + dir + " not generated yet (run test-models/synthetic/make_reference.py where transformers is installed)");
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
        try (ModelSource source = ModelSources.openHuggingFace(dir); CpuCausalLm lm = new CpuCausalLm(LlamaWeights.load(source))) {
            for (JsonNode p : ref.get("prompts")) {
                int[] ids = io.entrollm.testing.Fixtures.ints(p.get("ids"));
                lm.startSequence(ids.length + 16);
                float[] logits = lm.forward(ids, 0, 1);
                assertThat(ReferenceLogitsTest.relL2(logits, p.get("last_logits"))).as(name).isLessThan(LOGITS_REL_L2);
                assertArrayEquals(io.entrollm.testing.Fixtures.ints(p.get("greedy16")),
                        Generator.generate(lm, ids, 16, Sampler.greedy(), Set.of(), null).tokens(), name + " greedy");
            }
        }
    }
}
