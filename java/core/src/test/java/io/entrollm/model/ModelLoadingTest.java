package io.entrollm.model;

import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufValue;
import io.entrollm.format.safetensors.ShardedSafetensors;
import io.entrollm.tensor.Tensor;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real-weight paths: sharded safetensors and safetensors -> GGUF -> back, on the bundled model. */
class ModelLoadingTest {
    @TempDir Path tmp;

    /** Writes a sharded copy of the bundled model (config and tokenizer included) into {@code dir}. */
    static Path shardedCopy(Path dir, long maxShardBytes) throws IOException {
        try (ModelSource src = ModelSources.open(TestModels.sotuTiny())) {
            ShardedSafetensors.write(dir, src.tensors(), maxShardBytes);
        }
        for (String f : List.of("config.json", "tokenizer.json")) Files.copy(TestModels.sotuTiny().resolve(f), dir.resolve(f));
        return dir;
    }

    @Test
    void shardedCopyLoadsBitIdentical() throws IOException {
        Path dir = shardedCopy(tmp.resolve("sharded"), 4 << 20);
        try (ModelSource original = ModelSources.open(TestModels.sotuTiny()); ModelSource sharded = ModelSources.open(dir)) {
            assertThat(sharded.formatDescription()).contains("4 shards");
            assertEquals(74, sharded.tensors().size());
            assertEquals(original.config(), sharded.config());
            for (Tensor t : original.tensors()) assertEquals(t, sharded.tensor(t.name()));
        }
    }

    @Test
    void shardedIndexInconsistenciesAreNamed() throws IOException {
        Path dir = shardedCopy(tmp.resolve("sharded"), 4 << 20);
        Path index = dir.resolve(ShardedSafetensors.INDEX_FILE);
        String json = Files.readString(index);
        Files.writeString(index, json.replace("\"model.norm.weight\"", "\"model.norm.weight.renamed\""));
        assertThat(assertThrows(FormatException.class, () -> ModelSources.open(dir).close()).getMessage())
                .contains("model.norm.weight").contains("missing from");
        Files.writeString(index, json.replace("model-00004-of-00004", "model-00009-of-00004"));
        assertThat(assertThrows(FormatException.class, () -> ModelSources.open(dir).close()).getMessage())
                .contains("does not exist");
    }

    @Test
    void ggufConversionRoundTripsEveryValueExactly() throws IOException {
        Path gguf = tmp.resolve("sotu-tiny.gguf");
        try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(src, gguf, GgufConverter.OutType.SOURCE);
        }
        try (ModelSource original = ModelSources.open(TestModels.sotuTiny());
             ModelSource raw = ModelSources.open(gguf);
             ModelSource back = ModelSources.openHuggingFace(gguf)) {
            GgufModel g = assertInstanceOf(GgufModel.class, raw);
            assertEquals(74, raw.tensors().size());
            assertTrue(raw.find("blk.0.attn_q.weight").isPresent());
            assertTrue(raw.find("token_embd.weight").isPresent());
            // q/k rows are permuted in the file, as llama.cpp expects them
            assertThat(raw.tensor("blk.0.attn_q.weight").data().mismatch(original.tensor("model.layers.0.self_attn.q_proj.weight").data()))
                    .isNotNegative();
            assertEquals(4096, g.file().get("tokenizer.ggml.tokens").orElseThrow().asList().size());
            assertEquals("gpt2", g.file().get("tokenizer.ggml.model").map(GgufValue::asString).orElseThrow());
            // llama.cpp's name for GPT-2's pre-tokenizer (it refuses "gpt2" there: "unknown pre-tokenizer type")
            assertEquals("gpt-2", g.file().get("tokenizer.ggml.pre").map(GgufValue::asString).orElseThrow());
            assertEquals(original.tokenizerJson(), back.tokenizerJson());

            ModelConfig c = back.config().orElseThrow();
            assertEquals(256, c.hiddenSize());
            assertEquals(8, c.numLayers());
            assertEquals(4, c.numKvHeads());
            assertTrue(c.tieWordEmbeddings());
            assertEquals(original.config().orElseThrow().vocabSize(), c.vocabSize());

            assertEquals(original.tensors().size(), back.tensors().size());
            for (Tensor t : original.tensors()) {
                if (t.shape().length == 1) {
                    // 1-D tensors are F32 in GGUF (llama.cpp's rule): bf16 widens exactly, so the values are the same
                    assertEquals(io.entrollm.tensor.DType.F32, raw.tensor(LlamaTensorNames.toGguf(t.name()).orElseThrow()).dtype(), t.name());
                    assertArrayEquals(io.entrollm.tensor.TensorReader.toFloats(t), io.entrollm.tensor.TensorReader.toFloats(back.tensor(t.name())), t.name());
                } else {
                    assertEquals(t, back.tensor(t.name()), t.name());
                }
            }
        }
    }

    @Test
    void retypedGgufHoldsTheRequestedType() throws IOException {
        Path gguf = tmp.resolve("f32.gguf");
        try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(src, gguf, GgufConverter.OutType.F32);
        }
        try (ModelSource original = ModelSources.open(TestModels.sotuTiny()); ModelSource back = ModelSources.openHuggingFace(gguf)) {
            for (Tensor t : original.tensors()) {
                Tensor f = back.tensor(t.name());
                assertEquals(io.entrollm.tensor.DType.F32, f.dtype());
                // bf16 -> f32 is exact
                org.junit.jupiter.api.Assertions.assertArrayEquals(io.entrollm.tensor.TensorReader.toFloats(t),
                        io.entrollm.tensor.TensorReader.toFloats(f), t.name());
            }
        }
    }
}
