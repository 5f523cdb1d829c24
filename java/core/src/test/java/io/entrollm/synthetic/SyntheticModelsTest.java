package io.entrollm.synthetic;

import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SyntheticModelsTest {
    @TempDir Path tmp;

    /** Parameter counts as published on each model card; the shapes must reproduce them. */
    @ParameterizedTest
    @CsvSource({"smollm-1.7b, 1.71e9", "phi-3-mini, 3.82e9", "mistral-7b, 7.24e9"})
    void presetsHaveTheRealModelsParameterCounts(String name, double published) {
        SyntheticModels.Preset p = SyntheticModels.preset(name);
        assertThat(p.parameters() / published).isBetween(0.99, 1.01);
        List<long[]> shapes = new ArrayList<>();
        SyntheticModels.tensorNames(p, shapes);
        assertEquals(p.parameters(), shapes.stream().mapToLong(Tensor::elementCount).sum());
    }

    @Test
    void writesARunnableDeterministicModel() throws IOException {
        SyntheticModels.Preset p = SyntheticModels.preset("tiny");
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        int[] last = {0};
        SyntheticModels.write(p, DType.BF16, 7, donor(), a, n -> last[0] = n);
        SyntheticModels.write(p, DType.BF16, 7, donor(), b, null);
        assertEquals(SyntheticModels.tensorNames(p, new ArrayList<>()).size(), last[0]);
        try (LanguageModel lm = LanguageModel.load(a); ModelSource other = ModelSources.openHuggingFace(b)) {
            ModelSource s = lm.source();
            assertThat(s.configJson().orElseThrow()).contains("\"entrollm_synthetic\" : \"tiny\"");
            assertEquals(p.layers(), lm.config().numLayers());
            assertEquals(p.kvHeads(), lm.config().numKvHeads());
            LlamaLayout.of(s); // every tensor present with the shape the config implies
            // untied: a token reads the head (bf16 as stored) and the final norm (float32), not the whole embedding, whose rows are read on the host
            io.entrollm.residency.ModelFootprint fp = io.entrollm.residency.ModelFootprint.of(s, 8);
            assertEquals(2L * p.vocab() * p.hidden() + 4L * p.hidden(), fp.headReadBytes());
            assertEquals(2L * p.vocab() * p.hidden() + 4L * p.hidden(), fp.otherDecodedBytes());
            io.entrollm.infer.EmbeddingRows rows = io.entrollm.infer.EmbeddingRows.of(s, LlamaLayout.of(s)).orElseThrow();
            float[] table = TensorReader.toFloats(s.tensor("model.embed_tokens.weight"));
            float[] got = rows.rows(new int[] {7, 0, p.vocab() - 1});
            for (int i = 0; i < p.hidden(); i++) {
                assertEquals(table[7 * p.hidden() + i], got[i]);
                assertEquals(table[i], got[p.hidden() + i]);
                assertEquals(table[(p.vocab() - 1) * p.hidden() + i], got[2 * p.hidden() + i]);
            }
            assertEquals(p.parameters(), s.tensors().stream().mapToLong(Tensor::elementCount).sum());
            for (Tensor t : s.tensors()) assertEquals(t, other.tensor(t.name()), "same seed, same bytes: " + t.name());
            assertThat(lm.tokenizer().decode(lm.tokenizer().encode("synthetic weights, real shapes"), true)).isEqualTo("synthetic weights, real shapes");
            // a short CPU generation runs
            try (LanguageModel.Session session = lm.openCpuSession()) {
                assertEquals(4, session.generate(new int[] {5, 6, 7}, 4, io.entrollm.infer.Sampler.greedy(), java.util.Set.of(), t -> true).tokens().length);
            }
        }
        SyntheticModels.write(p, DType.BF16, 8, donor(), tmp.resolve("c"), null);
        try (ModelSource a2 = ModelSources.openHuggingFace(a); ModelSource c = ModelSources.openHuggingFace(tmp.resolve("c"))) {
            assertThat(a2.tensor("model.layers.0.mlp.up_proj.weight")).isNotEqualTo(c.tensor("model.layers.0.mlp.up_proj.weight"));
        }
    }

    static Donor donor;

    static synchronized Donor donor() {
        if (donor == null) {
            try (ModelSource s = ModelSources.openHuggingFace(io.entrollm.testing.TestModels.sotuTiny())) {
                donor = Donor.of(s);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return donor;
    }

    /**
     * A synthetic tensor wide and tall enough to draw on every donor row has the donor's quantized
     * entropy: uint4 and uint8 per tensor within 0.25 bits of the trained layer-0 tensor of that role.
     */
    @ParameterizedTest
    @CsvSource({"self_attn.q_proj.weight, 2048, 1024", "mlp.down_proj.weight, 1024, 4096", "mlp.gate_proj.weight, 4096, 1024"})
    void resampledValuesKeepTheDonorsEntropy(String role, long rows, long cols) throws IOException {
        SyntheticModels.Preset p = SyntheticModels.preset("tiny");
        Tensor synthetic = SyntheticModels.tensor("model.layers.0." + role, new long[] {rows, cols}, DType.F32, 5, donor(), p);
        try (ModelSource s = ModelSources.openHuggingFace(io.entrollm.testing.TestModels.sotuTiny())) {
            Tensor real = s.tensor("model.layers.0." + role);
            for (int bits : new int[] {4, 8}) {
                double hs = entropy(synthetic, bits), hr = entropy(real, bits);
                assertThat(Math.abs(hs - hr)).as("%s uint%d: synthetic %.3f vs donor %.3f bits", role, bits, hs, hr).isLessThan(0.25);
            }
        }
    }

    static double entropy(Tensor t, int bits) {
        io.entrollm.quant.QuantizedTensor q = io.entrollm.quant.Quantizer.quantize(t.name(), t.shape(), TensorReader.toFloats(t), bits,
                io.entrollm.quant.QuantScheme.ASYM, io.entrollm.quant.Granularity.TENSOR);
        return io.entrollm.codec.SymbolHistogram.of(q.symbols(), 1 << bits).entropyBits();
    }

    @Test
    void phi3StyleFusedTensorsTakeEachRowRangeFromItsRole() {
        SyntheticModels.Preset p = SyntheticModels.preset("phi-3-mini");
        long kv = (long) p.hidden() / p.heads() * p.kvHeads();
        assertEquals(Donor.Role.WQ, Donor.roleOf("model.layers.3.self_attn.qkv_proj.weight", p.hidden() - 1, p));
        assertEquals(Donor.Role.WK, Donor.roleOf("model.layers.3.self_attn.qkv_proj.weight", p.hidden(), p));
        assertEquals(Donor.Role.WV, Donor.roleOf("model.layers.3.self_attn.qkv_proj.weight", p.hidden() + kv, p));
        assertEquals(Donor.Role.W_GATE, Donor.roleOf("model.layers.0.mlp.gate_up_proj.weight", p.intermediate() - 1, p));
        assertEquals(Donor.Role.W_UP, Donor.roleOf("model.layers.0.mlp.gate_up_proj.weight", p.intermediate(), p));
        assertEquals(Donor.Role.LM_HEAD, Donor.roleOf("lm_head.weight", 0, p));
    }

    @Test
    void rejectsUnknownPresetsAndDtypes() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> SyntheticModels.preset("gpt-5")).getMessage()).contains("mistral-7b");
        assertThrows(IllegalArgumentException.class, () -> SyntheticModels.write(SyntheticModels.preset("tiny"), DType.Q8_0, 1, donor(), tmp.resolve("x"), null));
        assertThat(Files.exists(tmp.resolve("x"))).isFalse();
    }

    @Test
    void theTokenizerDecodesEveryIdTheModelCanGenerate() {
        int vocab = SyntheticModels.preset("tiny").vocab();
        var tok = io.entrollm.tokenizer.ByteLevelBpeTokenizer.fromJson(SyntheticModels.byteTokenizerJson(vocab));
        assertEquals(vocab, tok.vocabSize());
        for (int id = 0; id < vocab; id++) assertThat(tok.tokenBytes(id)).as("token " + id).isNotEmpty();
        assertEquals("<synthetic-299>", tok.decode(new int[] {299}, true));
        assertEquals("Fellow-Citizens", tok.decode(tok.encodeRaw("Fellow-Citizens"), true));
    }
}
