package io.entrollm.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.StoredTensor;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.testing.Fixtures;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The engine that computes from the stored form (packed int8/int4 symbols with group scales, Huffman
 * decoded once at load) against the float32 reference on the same dequantized weights: last-position
 * logits of the reference prompts within {@value #LOGITS_REL_L2} relative L2 (no activation
 * quantization: only summation order and the kernels' factorised scale/offset differ).
 */
class StoredEngineTest {
    static final double LOGITS_REL_L2 = 1e-3;
    @TempDir static Path tmp;
    static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        reference = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile());
    }

    @ParameterizedTest
    @CsvSource({"8, asym, tensor, huffman", "4, mixed, group:128, huffman", "4, sym, channel, packed", "3, asym, group:64, huffman",
            "6, mixed, tensor, packed"})
    void storedFormMatchesTheDequantizedReference(int bits, String scheme, String granularity, String encoding) throws IOException {
        Path entro = tmp.resolve("u" + bits + "-" + scheme + "-" + granularity.replace(':', '_') + "-" + encoding + ".entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, CompressOptions.defaults(bits, QuantScheme.parse(scheme), Granularity.parse(granularity))
                    .withEncoding(encoding.equals("packed") ? CompressOptions.Encoding.PACKED : CompressOptions.Encoding.HUFFMAN), null);
        }
        try (LanguageModel lm = LanguageModel.load(entro);
             CpuCausalLm ref = new CpuCausalLm(LlamaWeights.load(lm.source()));
             CpuCausalLm stored = new CpuCausalLm(LlamaWeights.loadStored(lm.source()), 2)) {
            assertInstanceOf(StoredTensor.Quantized.class, lm.source().stored("model.layers.0.mlp.down_proj.weight"));
            // the stored form holds the matrices as nibbles (<= 4 bits) or bytes, plus scales and the bf16 embedding
            // (2 MiB, not quantized by default), not as float32
            int storageBits = bits <= 4 ? 4 : 8;
            assertThat(stored.weights().matrixBytes()).isLessThan(ref.weights().matrixBytes() * storageBits / 32 + (5L << 19));
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = Fixtures.ints(p.get("ids"));
                ref.startSequence(ids.length);
                stored.startSequence(ids.length);
                assertThat(Fixtures.relL2(stored.forward(ids, 0, ids.length), ref.forward(ids, 0, ids.length)))
                        .as(p.get("text").asText()).isLessThan(LOGITS_REL_L2);
            }
        }
    }
}
