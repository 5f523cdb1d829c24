package io.entrollm.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.infer.CpuCausalLm;
import io.entrollm.infer.EvalText;
import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.LlamaWeights;
import io.entrollm.infer.Perplexity;
import io.entrollm.infer.Sampler;
import io.entrollm.model.GgufConverter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The GPU forward pass against transformers' reference and against the CPU path on the same weights. */
@Tag("gpu")
class GpuInferenceTest {
    static final double LOGITS_REL_L2 = 1e-3;
    /** Same weights, fp32 both sides: only summation order differs. */
    static final double GPU_VS_CPU_REL_L2 = 1e-4;
    static final double PPL_REL_TOLERANCE = 1e-3;
    static CudaContext ctx;
    static JsonNode reference;
    @TempDir static Path tmp;

    @BeforeAll
    static void open() throws IOException {
        ctx = GpuTests.openOrSkip();
        reference = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile());
    }

    @AfterAll
    static void close() { if (ctx != null) ctx.close(); }

    static double relL2(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    private void checkAgainstReference(Path model) throws IOException {
        try (LanguageModel lm = LanguageModel.load(model); LlamaGpu gpu = LlamaGpu.load(ctx, lm.source())) {
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = ints(p.get("ids"));
                gpu.startSequence(ids.length + 32);
                float[] logits = gpu.forward(ids, 0, 1);
                float[] expected = new float[logits.length];
                for (int i = 0; i < expected.length; i++) expected[i] = (float) p.get("last_logits").get(i).asDouble();
                assertThat(relL2(logits, expected)).as(gpu.blasBinding() + ": " + p.get("text").asText()).isLessThan(LOGITS_REL_L2);
                assertArrayEquals(ints(p.get("greedy32")), Generator.generate(gpu, ids, 32, Sampler.greedy(), Set.of(), null).tokens());
            }
        }
    }

    @Test
    void safetensorsAndGgufMatchTransformers() throws IOException {
        checkAgainstReference(TestModels.sotuTiny());
        Path gguf = tmp.resolve("m.gguf");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(s, gguf, GgufConverter.OutType.SOURCE);
        }
        checkAgainstReference(gguf);
    }

    /** .entro weights decoded on the GPU give the logits the CPU gets from the same dequantized weights. */
    @Test
    void entroDecodedOnTheGpuMatchesTheCpu() throws IOException {
        Path entro = tmp.resolve("u8.entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, CompressOptions.defaults(8, QuantScheme.MIXED, Granularity.TENSOR), null);
        }
        try (LanguageModel lm = LanguageModel.load(entro); LlamaGpu gpu = LlamaGpu.load(ctx, lm.source());
             CpuCausalLm cpu = new CpuCausalLm(LlamaWeights.load(lm.source()))) {
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = ints(p.get("ids"));
                gpu.startSequence(ids.length);
                cpu.startSequence(ids.length);
                float[] g = gpu.forward(ids, 0, ids.length), c = cpu.forward(ids, 0, ids.length);
                assertThat(relL2(g, c)).isLessThan(GPU_VS_CPU_REL_L2);
            }
        }
    }

    @Test
    void perplexityOnTheGpuMatchesTheReference() throws IOException {
        JsonNode ref = reference.get("eval_sets").get("moby-dick-100k");
        try (LanguageModel lm = LanguageModel.load(TestModels.sotuTiny()); LanguageModel.Session s = GpuSessions.open(lm, 0)) {
            int[] stream = EvalText.tokens(TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt"), lm.tokenizer(), 1, 100_000);
            Perplexity.Result r = s.perplexity(stream, 256, null);
            assertEquals(ref.get("scored").asLong(), r.scored());
            assertThat(Math.abs(r.perplexity() / ref.get("ppl").asDouble() - 1)).isLessThan(PPL_REL_TOLERANCE);
            assertThat(s.device()).startsWith("gpu");
        }
    }

    /** The compressed residency mode gives the decoded mode's logits, holding less weight memory on the GPU. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(CompressOptions.Encoding.class)
    void compressedModeMatchesDecodedMode(CompressOptions.Encoding encoding) throws IOException {
        Path entro = tmp.resolve("u4-" + encoding + ".entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, CompressOptions.defaults(4, QuantScheme.MIXED, Granularity.TENSOR).withEncoding(encoding), null);
        }
        try (LanguageModel lm = LanguageModel.load(entro);
             LlamaGpu decoded = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.DECODED);
             LlamaGpu compressed = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.COMPRESSED)) {
            assertThat(compressed.residentWeightBytes()).isLessThan(decoded.residentWeightBytes());
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = ints(p.get("ids"));
                decoded.startSequence(ids.length);
                compressed.startSequence(ids.length);
                // bit-identical weights; cuBLAS may still pick another algorithm for other buffer addresses
                assertThat(relL2(compressed.forward(ids, 0, ids.length), decoded.forward(ids, 0, ids.length))).isLessThan(1e-6);
            }
        }
    }
}
