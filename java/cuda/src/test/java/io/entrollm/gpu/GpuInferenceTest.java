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
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The GPU forward pass against transformers' reference and against the CPU path on the same weights. */
@Tag("gpu")
class GpuInferenceTest {
    static final double LOGITS_REL_L2 = 1e-3;
    /**
     * Same weights, float32 arithmetic both sides, but the GPU's KV cache holds f16 keys and values (11
     * significant bits) where the CPU's holds float32: that moved sotu-tiny's logits by up to 2.1e-4
     * (summation order alone: below 1e-5, see GpuGemvTest).
     */
    static final double GPU_VS_CPU_REL_L2 = 5e-4;
    /**
     * Batches of more than {@link GemvLauncher#TOKENS_PER_PASS} tokens also multiply through cuBLAS on
     * f16 weights: a dequantized weight keeps 11 significant bits there (bf16 weights convert exactly),
     * which alone moved sotu-tiny's uint8 prompt logits by 1.9e-4.
     */
    static final double F16_PROMPT_VS_CPU_REL_L2 = 1e-3;
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

    private void checkAgainstReference(Path model) throws IOException {
        try (LanguageModel lm = LanguageModel.load(model); LlamaGpu gpu = LlamaGpu.load(ctx, lm.source())) {
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = io.entrollm.testing.Fixtures.ints(p.get("ids"));
                gpu.startSequence(ids.length + 32);
                float[] logits = gpu.forward(ids, 0, 1);
                float[] expected = new float[logits.length];
                for (int i = 0; i < expected.length; i++) expected[i] = (float) p.get("last_logits").get(i).asDouble();
                assertThat(io.entrollm.testing.Fixtures.relL2(logits, expected)).as(gpu.blasBinding() + ": " + p.get("text").asText()).isLessThan(LOGITS_REL_L2);
                assertArrayEquals(io.entrollm.testing.Fixtures.ints(p.get("greedy32")), Generator.generate(gpu, ids, 32, Sampler.greedy(), Set.of(), null).tokens());
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

    /**
     * .entro weights decoded on the GPU give the logits the CPU gets from the same dequantized weights, with the tied
     * embedding and head as stored (bf16) and at 8 bits per row ({@code compress}'s default).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 8})
    void entroDecodedOnTheGpuMatchesTheCpu(int embeddingBits) throws IOException {
        Path entro = tmp.resolve("u8-emb" + embeddingBits + ".entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, CompressOptions.defaults(8, QuantScheme.MIXED, Granularity.TENSOR).withEmbeddingBits(embeddingBits), null);
        }
        try (ModelSource m = ModelSources.open(entro)) {
            assertEquals(embeddingBits > 0, m.stored("model.embed_tokens.weight") instanceof io.entrollm.model.StoredTensor.Quantized);
        }
        try (LanguageModel lm = LanguageModel.load(entro); LlamaGpu gpu = LlamaGpu.load(ctx, lm.source());
             CpuCausalLm cpu = new CpuCausalLm(LlamaWeights.load(lm.source()))) {
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = io.entrollm.testing.Fixtures.ints(p.get("ids"));
                int[] prompt = twice(ids);
                assertThat(prompt.length).isGreaterThan(GemvLauncher.TOKENS_PER_PASS);
                gpu.startSequence(prompt.length);
                cpu.startSequence(prompt.length);
                float[] g = gpu.forward(prompt, 0, prompt.length), c = cpu.forward(prompt, 0, prompt.length);
                assertThat(io.entrollm.testing.Fixtures.relL2(g, c)).as("prompt (f16 GEMMs)").isLessThan(F16_PROMPT_VS_CPU_REL_L2);
                // token by token, the GEMV kernels read the symbols and dequantize in float32 as the CPU does
                gpu.startSequence(ids.length);
                cpu.startSequence(ids.length);
                for (int t = 0; t < ids.length; t++) {
                    int[] one = {ids[t]};
                    assertThat(io.entrollm.testing.Fixtures.relL2(gpu.forward(one, t, 1), cpu.forward(one, t, 1))).as("token %d", t).isLessThan(GPU_VS_CPU_REL_L2);
                }
            }
        }
    }

    /**
     * On a GPU: the whole moby-dick-100k set against transformers' perplexity. On the CUDA simulator
     * (about 50x slower than the CPU path on this kernel mix) the first 10,000 characters against the
     * CPU path's perplexity on the same tokens, which CPU tests check against the reference.
     */
    @Test
    void perplexityOnTheGpuMatchesTheReference() throws IOException {
        JsonNode ref = reference.get("eval_sets").get("moby-dick-100k");
        int chars = ctx.simulated() ? 10_000 : 100_000;
        try (LanguageModel lm = LanguageModel.load(TestModels.sotuTiny()); LanguageModel.Session s = GpuSessions.open(lm, 0)) {
            int[] stream = EvalText.tokens(TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt"), lm.tokenizer(), 1, chars);
            Perplexity.Result r = s.perplexity(stream, 256, null);
            assertThat(s.device()).startsWith("gpu");
            if (ctx.simulated()) {
                try (LanguageModel.Session cpu = lm.openCpuSession()) {
                    Perplexity.Result c = cpu.perplexity(stream, 256, null);
                    assertEquals(c.scored(), r.scored());
                    assertThat(Math.abs(r.perplexity() / c.perplexity() - 1)).isLessThan(PPL_REL_TOLERANCE);
                }
            } else {
                assertEquals(ref.get("scored").asLong(), r.scored());
                assertThat(Math.abs(r.perplexity() / ref.get("ppl").asDouble() - 1)).isLessThan(PPL_REL_TOLERANCE);
            }
        }
    }

    /** A reference prompt twice over: longer than a GEMV batch, so its matmuls go through the f16 GEMMs. */
    static int[] twice(int[] ids) {
        return java.util.stream.IntStream.concat(java.util.Arrays.stream(ids), java.util.Arrays.stream(ids)).toArray();
    }

    /** A model file of sotu-tiny per format: the bf16 safetensors as shipped, or a uint4 .entro (Huffman or packed). */
    static Path modelFile(String format) throws IOException {
        if (format.equals("bf16")) return TestModels.sotuTiny();
        Path entro = tmp.resolve("u4-" + format + ".entro");
        if (!java.nio.file.Files.exists(entro)) {
            try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
                EntroCompressor.compress(s, entro, CompressOptions.defaults(4, QuantScheme.MIXED, Granularity.TENSOR)
                        .withEncoding(format.equals("packed") ? CompressOptions.Encoding.PACKED : CompressOptions.Encoding.HUFFMAN), null);
            }
        }
        return entro;
    }

    /**
     * Every residency mode gives the decoded mode's logits for the same weights (bf16, Huffman-coded and
     * packed uint4), holding less weight memory on the GPU, over a prompt and then token by token (the
     * streamed mode's buffers are reused across passes).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"bf16,COMPRESSED,HOST", "bf16,STREAMED,HOST", "huffman,COMPRESSED,HOST", "huffman,STREAMED,HOST",
            "packed,COMPRESSED,HOST", "packed,STREAMED,HOST", "huffman,STREAMED,STORAGE", "bf16,STREAMED,STORAGE"})
    void everyModeMatchesTheDecodedMode(String format, io.entrollm.residency.ResidencyMode mode, io.entrollm.residency.StreamSource from)
            throws IOException {
        try (LanguageModel lm = LanguageModel.load(modelFile(format));
             LlamaGpu decoded = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.DECODED);
             LlamaGpu other = LlamaGpu.load(ctx, lm.source(), mode, from)) {
            assertEquals(mode, other.mode());
            if (format.equals("packed")) {
                // the decoded mode already holds packed tensors as stored: the other modes save only the float32 norms
                long pieces = 2L * io.entrollm.residency.WeightBlock.layers(lm.source(), io.entrollm.infer.LlamaLayout.of(lm.source())).stream()
                        .mapToLong(b -> b.tensors().size()).sum();
                assertThat(other.residentWeightBytes()).isLessThanOrEqualTo(decoded.residentWeightBytes() + (long) io.entrollm.residency.WeightBlock.ALIGN * pieces);
            } else {
                assertThat(other.residentWeightBytes()).isLessThan(decoded.residentWeightBytes());
            }
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = io.entrollm.testing.Fixtures.ints(p.get("ids"));
                decoded.startSequence(ids.length + 8);
                other.startSequence(ids.length + 8);
                // bit-identical weights; cuBLAS may still pick another algorithm for other buffer addresses
                assertThat(io.entrollm.testing.Fixtures.relL2(other.forward(ids, 0, ids.length), decoded.forward(ids, 0, ids.length))).isLessThan(1e-6);
                for (int t = 0; t < 8; t++) {
                    int[] next = {3 + (t * 131) % 4000};
                    assertThat(io.entrollm.testing.Fixtures.relL2(other.forward(next, ids.length + t, 1), decoded.forward(next, ids.length + t, 1)))
                            .as("token %d", t).isLessThan(1e-6);
                }
            }
        }
    }

    /** The streamed mode's timeline: every layer copied, decoded and computed once, in dependency order, moving every block's bytes. */
    @Test
    void streamedTimelineFollowsTheSchedule() throws IOException {
        try (LanguageModel lm = LanguageModel.load(modelFile("huffman"));
             LlamaGpu gpu = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.STREAMED)) {
            io.entrollm.residency.ModelFootprint fp = io.entrollm.residency.ModelFootprint.of(lm.source(), 16);
            gpu.startSequence(16);
            gpu.setProfiling(true);
            gpu.forward(new int[] {5, 6, 7}, 0, 1);
            java.util.List<LayerTimeline.Step> steps = gpu.lastTimeline();
            int layers = lm.config().numLayers();
            assertEquals(3 * layers, steps.size());
            assertEquals(fp.codedBytes(), LayerTimeline.bytes(steps, LayerTimeline.Kind.COPY));
            java.util.Map<String, LayerTimeline.Step> at = new java.util.HashMap<>();
            for (LayerTimeline.Step s : steps) at.put(s.kind() + ":" + s.layer(), s);
            for (int l = 0; l < layers; l++) {
                // event timestamps have ~0.5 us resolution
                assertThat(at.get("DECODE:" + l).startMs()).isGreaterThanOrEqualTo(at.get("COPY:" + l).endMs() - 1e-3);
                assertThat(at.get("COMPUTE:" + l).startMs()).isGreaterThanOrEqualTo(at.get("DECODE:" + l).endMs() - 1e-3);
                if (l >= 2) assertThat(at.get("COPY:" + l).startMs()).isGreaterThanOrEqualTo(at.get("DECODE:" + (l - 2)).endMs() - 1e-3);
            }
            assertThat(LayerTimeline.gigabytesPerSecond(steps, LayerTimeline.Kind.COPY)).isPositive();
            gpu.setProfiling(false);
            gpu.forward(new int[] {8}, 3, 1);
            assertThat(gpu.lastTimeline()).isEmpty();
        }
    }

    /**
     * Generated tokens replay one captured CUDA graph (from the second on) and give exactly the logits of
     * passes launched kernel by kernel, position after position: everything that moves with the position
     * is read on the GPU. The streamed mode, and passes of more than one token, are not captured.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"bf16,DECODED", "huffman,DECODED", "huffman,COMPRESSED", "packed,COMPRESSED", "huffman,STREAMED"})
    void tokenGraphReplaysThePass(String format, io.entrollm.residency.ResidencyMode mode) throws IOException {
        try (LanguageModel lm = LanguageModel.load(modelFile(format)); LlamaGpu graphed = LlamaGpu.load(ctx, lm.source(), mode);
             LlamaGpu plain = LlamaGpu.load(ctx, lm.source(), mode)) {
            plain.setGraphs(false);
            int[] ids = io.entrollm.testing.Fixtures.ints(reference.get("prompts").get(0).get("ids"));
            graphed.startSequence(ids.length + 6);
            plain.startSequence(ids.length + 6);
            assertArrayEquals(plain.forward(ids, 0, 1), graphed.forward(ids, 0, 1));
            assertThat(graphed.lastPassFromGraph()).isFalse();
            for (int t = 0; t < 6; t++) {
                int[] next = {7 + 13 * t};
                assertArrayEquals(plain.forward(next, ids.length + t, 1), graphed.forward(next, ids.length + t, 1), "token " + t);
                assertEquals(t > 0 && mode != io.entrollm.residency.ResidencyMode.STREAMED, graphed.lastPassFromGraph(), "token " + t);
                assertThat(plain.lastPassFromGraph()).isFalse();
                assertEquals(plain.lastTraffic(), graphed.lastTraffic(), "token " + t);
            }
            // a longer cache replaces the buffers the graph names: it is captured again
            graphed.startSequence(ids.length + 40);
            plain.startSequence(ids.length + 40);
            for (int t = 0; t < 3; t++) {
                int[] next = {5 + t};
                assertArrayEquals(plain.forward(next, t, 1), graphed.forward(next, t, 1));
            }
        }
    }

    /**
     * The fused mode (generation multiplied straight from the Huffman-coded weights) gives the
     * compressed mode's logits: the prompt through the same path, generated tokens within float32
     * summation order (its atomics add partial sums in any order) as the f16 cache passes it on; its
     * tokens read the coded bytes and decode nothing ahead.
     */
    @Test
    void fusedModeMatchesTheCompressedMode() throws IOException {
        try (LanguageModel lm = LanguageModel.load(modelFile("huffman"));
             LlamaGpu compressed = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.COMPRESSED);
             LlamaGpu fused = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.COMPRESSED, io.entrollm.residency.StreamSource.HOST, true)) {
            io.entrollm.residency.ModelFootprint fp = io.entrollm.residency.ModelFootprint.of(lm.source(), 64);
            for (JsonNode p : reference.get("prompts")) {
                int[] ids = io.entrollm.testing.Fixtures.ints(p.get("ids"));
                int[] prompt = twice(ids);
                compressed.startSequence(prompt.length + 8);
                fused.startSequence(prompt.length + 8);
                assertThat(io.entrollm.testing.Fixtures.relL2(fused.forward(prompt, 0, prompt.length), compressed.forward(prompt, 0, prompt.length))).isLessThan(1e-6);
                for (int t = 0; t < 8; t++) {
                    int[] next = {3 + (t * 131) % 4000};
                    // the atomics' order moves a key or value by a float32 rounding, which can move its f16 rounding by one step
                    assertThat(io.entrollm.testing.Fixtures.relL2(fused.forward(next, prompt.length + t, 1), compressed.forward(next, prompt.length + t, 1)))
                            .as("token %d", t).isLessThan(2e-4);
                    GpuTraffic f = fused.lastTraffic();
                    // the layers' coded blocks read instead of their symbols; only the bf16 norms are widened ahead
                    assertThat(f.decode()).isLessThan(fp.scratchBytes());
                    assertThat(f.weights()).isLessThan(compressed.lastTraffic().weights());
                }
            }
            assertThrows(IllegalArgumentException.class, () -> LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.DECODED,
                    io.entrollm.residency.StreamSource.HOST, true));
        }
    }

    /**
     * One generated token's GPU memory traffic by the kernels' accounting: the layers' weight forms
     * and the head read once (uint4 symbols a quarter of bf16's bytes), the per-pass decode of the
     * compressed and streamed modes on top, attention reading the cache of every earlier position.
     */
    @Test
    void tokenTrafficFollowsTheForm() throws IOException {
        java.util.Map<String, GpuTraffic> decodedMode = new java.util.HashMap<>();
        for (String format : new String[] {"bf16", "huffman"}) {
            try (LanguageModel lm = LanguageModel.load(modelFile(format))) {
                io.entrollm.residency.ModelFootprint fp = io.entrollm.residency.ModelFootprint.of(lm.source(), 16);
                io.entrollm.model.ModelConfig c = lm.config();
                for (io.entrollm.residency.ResidencyMode mode : io.entrollm.residency.ResidencyMode.values()) {
                    try (LlamaGpu gpu = LlamaGpu.load(ctx, lm.source(), mode)) {
                        gpu.startSequence(16);
                        gpu.forward(new int[] {5, 6, 7}, 0, 1);
                        gpu.forward(new int[] {8}, 3, 1);
                        GpuTraffic t = gpu.lastTraffic();
                        long forms = fp.decodedBytes() + fp.headReadBytes();
                        // the forms once (alignment padding is not read), plus one embedding row
                        assertThat(t.weights()).as(format + " " + mode).isBetween(forms - forms / 100, forms + forms / 100);
                        assertEquals(2L * 2 * c.numLayers() * (4L * c.qDim() + c.kvDim()), t.kvCache(), "f16 keys and values of positions 0..3 read, position 3 written");
                        switch (mode) {
                            case DECODED -> assertEquals(0, t.decode());
                            // every layer's coded pieces read and symbols written (bf16: its norms widened)
                            case COMPRESSED -> assertThat(t.decode()).isBetween(format.equals("bf16") ? 1 : fp.decodedBytes() / 2, fp.codedBytes() + fp.decodedBytes());
                            // every block copied in, then decoded as in the compressed mode
                            case STREAMED -> assertThat(t.decode()).isBetween(fp.codedBytes() + 1, 2 * fp.codedBytes() + fp.decodedBytes());
                        }
                        if (mode == io.entrollm.residency.ResidencyMode.DECODED) decodedMode.put(format, t);
                    }
                }
            }
        }
        // layers at 0.5 byte a weight instead of 2; the bf16 embedding/head is read by both
        assertThat((double) decodedMode.get("huffman").weights() / decodedMode.get("bf16").weights()).isLessThan(0.45);
    }

    /** The compressed mode holds its blocks plus one layer of scratch, as planned; measured with cuMemGetInfo. */
    @Test
    void compressedModeMemoryIsBlocksPlusOneLayer() throws IOException {
        try (LanguageModel lm = LanguageModel.load(modelFile("huffman"))) {
            io.entrollm.residency.ModelFootprint fp = io.entrollm.residency.ModelFootprint.of(lm.source(), 64);
            long before = ctx.memoryInfo()[0];
            try (LlamaGpu gpu = LlamaGpu.load(ctx, lm.source(), io.entrollm.residency.ResidencyMode.COMPRESSED)) {
                gpu.startSequence(64);
                gpu.forward(new int[] {5, 6, 7}, 0, 1);
                long used = before - ctx.memoryInfo()[0];
                assertEquals(fp.codedBytes() + fp.scratchBytes() + fp.otherDecodedBytes(), gpu.residentWeightBytes(), "planned bytes");
                // cuMemGetInfo counts whole 2 MiB pages, the cuBLAS workspace and the RoPE table: allow 64 MiB of slack
                assertThat(used).isLessThan(fp.requiredBytes(io.entrollm.residency.ResidencyMode.COMPRESSED) + (64L << 20));
            }
        }
    }

    /**
     * An untied model (the synthetic tiny preset: GQA, separate head) reads its embedding rows on the
     * host: the GPU holds no embedding table, and every mode gives the CPU's logits.
     */
    @Test
    void untiedModelReadsEmbeddingRowsOnTheHost() throws IOException {
        Path dir = tmp.resolve("synthetic-tiny");
        if (!java.nio.file.Files.exists(dir)) {
            io.entrollm.synthetic.Donor donor;
            try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
                donor = io.entrollm.synthetic.Donor.of(s);
            }
            io.entrollm.synthetic.SyntheticModels.write(io.entrollm.synthetic.SyntheticModels.preset("tiny"), io.entrollm.tensor.DType.BF16, 3, donor, dir, null);
        }
        try (LanguageModel lm = LanguageModel.load(dir); CpuCausalLm cpu = new CpuCausalLm(LlamaWeights.load(lm.source()))) {
            io.entrollm.residency.ModelFootprint fp = io.entrollm.residency.ModelFootprint.of(lm.source(), 16);
            int[] ids = {5, 9, 200, 17, 3};
            cpu.startSequence(16);
            float[] expected = cpu.forward(ids, 0, ids.length);
            for (io.entrollm.residency.ResidencyMode mode : io.entrollm.residency.ResidencyMode.values()) {
                try (LlamaGpu gpu = LlamaGpu.load(ctx, lm.source(), mode)) {
                    gpu.startSequence(16);
                    assertThat(io.entrollm.testing.Fixtures.relL2(gpu.forward(ids, 0, ids.length), expected)).as(mode.name()).isLessThan(GPU_VS_CPU_REL_L2);
                    if (mode == io.entrollm.residency.ResidencyMode.COMPRESSED) {
                        assertEquals(fp.codedBytes() + fp.scratchBytes() + fp.otherDecodedBytes(), gpu.residentWeightBytes());
                    }
                }
            }
        }
    }
}
