package io.entrollm.interop;

import io.entrollm.cli.Main;
import io.entrollm.format.gguf.GgufFile;
import io.entrollm.infer.CpuCausalLm;
import io.entrollm.infer.Generator;
import io.entrollm.infer.LlamaWeights;
import io.entrollm.infer.Sampler;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import io.entrollm.testing.TestModels;
import io.entrollm.tokenizer.ByteLevelBpeTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * EntroLLM-J and llama.cpp on each other's files, on sotu-tiny: llama.cpp loads every GGUF {@code convert}
 * writes and generates our greedy text; our Q8_0/Q4_0 blocks are the bytes llama.cpp's own quantizer
 * writes; we read llama.cpp's quantizations (k-quants included) and dequantize every tensor bit for bit as
 * ggml does, and our logits on them follow llama.cpp's within {@link #LOGITS_REL_L2}.
 */
class LlamaCppInteropTest {
    private static final String PROMPT = "The state of the Union is";
    /**
     * Per-position logits against llama.cpp on its quantized files. ggml multiplies quantized matrices by
     * activations quantized to Q8_0 / Q8_K, and we keep them in float32: on sotu-tiny that alone moves
     * llama.cpp's own logits by 0.03 rel L2 (its Q8_0 file against its f32 file) and ours from its by
     * 0.018-0.031 (measured 2026-12-02). Weights are compared bit for bit above, so this bounds the engine.
     */
    static final double LOGITS_REL_L2 = 0.05;
    /** Where no activation is quantized (the f32 file) the two engines agree this closely. */
    static final double F32_LOGITS_REL_L2 = 1e-3;
    private static final String TEXT = "Mr. Speaker, Mr. Vice President, members of Congress, my fellow Americans: the state of our Union is strong.";
    private static final Set<DType> READ = EnumSet.noneOf(DType.class);
    @TempDir static Path dir;
    static LlamaCpp llama;
    static Path f32;

    @BeforeAll
    static void setUp() throws IOException {
        llama = LlamaCpp.require();
        f32 = convert("f32");
    }

    @AfterAll
    static void everyKQuantWasRead() {
        if (llama == null || READ.isEmpty()) return;
        assertThat(READ).as("GGML types read from llama.cpp's files").contains(DType.Q8_0, DType.Q4_0, DType.Q2_K, DType.Q3_K, DType.Q4_K,
                DType.Q5_K, DType.Q6_K);
    }

    static Path convert(String outtype) {
        Path out = dir.resolve("sotu-" + outtype + ".gguf");
        if (!Files.exists(out)) cli("convert", TestModels.sotuTiny().toString(), "-o", out.toString(), "--outtype", outtype);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"f32", "f16", "bf16", "q8_0", "q4_0"})
    void llamaCppLoadsWhatConvertWritesAndGeneratesOurGreedyText(String outtype) throws IOException {
        Path gguf = convert(outtype);
        try (ModelSource source = ModelSources.openHuggingFace(gguf)) {
            int[] ids = ByteLevelBpeTokenizer.fromJson(source.tokenizerJson().orElseThrow()).encode(PROMPT);
            assertArrayEquals(ids, llama.tokenize(gguf, PROMPT), "llama.cpp's tokenization of the prompt");
            try (CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(source))) {
                int[] ours = Generator.generate(lm, ids, 32, Sampler.greedy(), Set.of(), null).tokens();
                assertArrayEquals(ours, llama.greedy(gguf, 32, ids), "greedy 32 tokens, " + outtype);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void ourQuantizedBlocksAreTheBytesLlamaCppsQuantizerWrites(LlamaCpp.Ftype type) throws IOException {
        Path theirs = dir.resolve("llama-pure-" + type + ".gguf");
        llama.quantize(f32, theirs, type, true);
        Path ours = convert(type.name().toLowerCase(java.util.Locale.ROOT));
        try (GgufFile a = GgufFile.open(ours); GgufFile b = GgufFile.open(theirs)) {
            assertEquals(a.tensors().size(), b.tensors().size());
            int quantized = 0;
            for (Tensor t : a.tensors()) {
                Tensor u = b.tensors().stream().filter(x -> x.name().equals(t.name())).findFirst().orElseThrow();
                assertEquals(u.dtype(), t.dtype(), t.name());
                assertEquals(-1, t.data().mismatch(u.data()), "bytes of " + t.name());
                if (t.dtype().isBlockQuantized()) quantized++;
            }
            assertThat(quantized).as("block-quantized tensors compared").isGreaterThan(50);
        }
    }

    /** llama.cpp's quantization of sotu-tiny to {@code type} (its default mix: the tied embedding in Q6_K for Q4_0, ...). */
    static Path quantized(LlamaCpp.Ftype type) throws IOException {
        Path gguf = dir.resolve("llama-" + type + ".gguf");
        if (!Files.exists(gguf)) llama.quantize(f32, gguf, type, false);
        return gguf;
    }

    private static String cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(0, rc, String.join(" ", args) + ": " + err);
        return out.toString();
    }

    @ParameterizedTest
    @EnumSource(LlamaCpp.Ftype.class)
    void keepQuantizationGivesLlamaCppsFileBackByteForByteAndRunsAsIt(LlamaCpp.Ftype type) throws IOException {
        Path gguf = quantized(type), entro = dir.resolve("keep-" + type + ".entro"), back = dir.resolve("back-" + type + ".gguf");
        cli("compress", gguf.toString(), "--keep-quantization", "-o", entro.toString());
        assertThat(cli("decompress", entro.toString(), "--gguf", "-o", back.toString())).contains("byte for byte");
        assertEquals(-1, Files.mismatch(gguf, back), "decompress --gguf of " + entro + " differs from " + gguf);
        System.out.printf("keep-quantization %s: GGUF %,d bytes, .entro %,d bytes (%.4f x)%n", type, Files.size(gguf), Files.size(entro),
                (double) Files.size(entro) / Files.size(gguf));
        int[] fromGguf, fromEntro;
        try (ModelSource source = ModelSources.openHuggingFace(gguf)) {
            int[] ids = ByteLevelBpeTokenizer.fromJson(source.tokenizerJson().orElseThrow()).encode(PROMPT);
            try (CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(source))) {
                fromGguf = Generator.generate(lm, ids, 16, Sampler.greedy(), Set.of(), null).tokens();
            }
            try (ModelSource kept = ModelSources.openHuggingFace(entro); CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(kept))) {
                fromEntro = Generator.generate(lm, ids, 16, Sampler.greedy(), Set.of(), null).tokens();
            }
        }
        assertArrayEquals(fromGguf, fromEntro, "greedy tokens from the .entro and from the GGUF it keeps");
    }

    @ParameterizedTest
    @EnumSource(LlamaCpp.Ftype.class)
    void weReadLlamaCppsQuantizationsAsLlamaCppDoes(LlamaCpp.Ftype type) throws IOException {
        Path gguf = quantized(type);
        Path floats = dir.resolve("dequant-" + type);
        llama.dequantize(gguf, floats);
        try (GgufFile file = GgufFile.open(gguf)) {
            for (Tensor t : file.tensors()) {
                float[] ours = TensorReader.toFloats(t), theirs = LlamaCpp.floats(floats.resolve(t.name()));
                assertEquals(theirs.length, ours.length, t.name());
                for (int i = 0; i < ours.length; i++) {
                    if (Float.floatToIntBits(ours[i]) != Float.floatToIntBits(theirs[i])) {
                        throw new AssertionError(t.name() + " (" + t.dtype() + ") element " + i + ": ours " + ours[i] + ", ggml's " + theirs[i]);
                    }
                }
                READ.add(t.dtype());
            }
        }
        int[] ids;
        try (ModelSource source = ModelSources.openHuggingFace(gguf)) {
            ids = ByteLevelBpeTokenizer.fromJson(source.tokenizerJson().orElseThrow()).encode(TEXT);
            float[] theirs = llama.logits(gguf, ids, dir);
            try (CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(source))) {
                lm.startSequence(ids.length);
                float[] ours = lm.forward(ids, 0, ids.length);
                assertEquals(theirs.length, ours.length);
                int vocab = ours.length / ids.length;
                float[] unquantized = llama.logits(f32, ids, dir);
                double worst = 0, quantEffect = 0;
                int sameTop = 0;
                for (int p = 0; p < ids.length; p++) {
                    worst = Math.max(worst, relL2(ours, theirs, p * vocab, vocab));
                    quantEffect = Math.max(quantEffect, relL2(theirs, unquantized, p * vocab, vocab));
                    if (argmax(ours, p * vocab, vocab) == argmax(theirs, p * vocab, vocab)) sameTop++;
                }
                System.out.printf("llama.cpp %s: %d positions, worst logits rel L2 %.5f (llama.cpp's own %s vs f32: %.5f), same top-1 %d%n",
                        type, ids.length, worst, type, quantEffect, sameTop);
                assertThat(worst).as("worst per-position logits rel L2 against llama.cpp, " + type).isLessThan(LOGITS_REL_L2);
                assertThat(sameTop).as("positions whose top token is llama.cpp's, " + type).isGreaterThanOrEqualTo(ids.length - 1);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void onTheFloat32FileOurLogitsAreLlamaCpps() throws IOException {
        try (ModelSource source = ModelSources.openHuggingFace(f32)) {
            int[] ids = ByteLevelBpeTokenizer.fromJson(source.tokenizerJson().orElseThrow()).encode(TEXT);
            float[] theirs = llama.logits(f32, ids, dir);
            try (CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(source))) {
                lm.startSequence(ids.length);
                float[] ours = lm.forward(ids, 0, ids.length);
                int vocab = ours.length / ids.length;
                double worst = 0;
                for (int p = 0; p < ids.length; p++) worst = Math.max(worst, relL2(ours, theirs, p * vocab, vocab));
                System.out.printf("llama.cpp f32: worst logits rel L2 %.6f%n", worst);
                assertThat(worst).as("worst per-position logits rel L2 against llama.cpp on f32 weights").isLessThan(F32_LOGITS_REL_L2);
            }
        }
    }

    private static int argmax(float[] a, int from, int n) {
        int best = from;
        for (int i = from + 1; i < from + n; i++) if (a[i] > a[best]) best = i;
        return best - from;
    }

    private static double relL2(float[] a, float[] b, int from, int n) {
        double num = 0, den = 0;
        for (int i = from; i < from + n; i++) {
            double d = a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }
}
