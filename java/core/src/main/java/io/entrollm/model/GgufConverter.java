package io.entrollm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.gguf.GgufValue;
import io.entrollm.format.gguf.GgufValueType;
import io.entrollm.format.gguf.GgufWriter;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a Hugging Face-named model to GGUF the way llama.cpp's convert_hf_to_gguf.py lays it out:
 * {@code blk.N.*} names, q/k rows permuted for {@code llama}, {@code <arch>.*} hyper-parameters and
 * {@code tokenizer.ggml.*} vocabulary (byte-level BPE), plus the verbatim tokenizer.json under
 * {@code tokenizer.huggingface.json} so nothing is lost.
 */
public final class GgufConverter {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Output element type: keep each tensor's own, or re-type every float tensor. Q8_0 and Q4_0 apply to
     * matrices whose rows are whole blocks of 32 (others become F16, as llama.cpp's converter does).
     */
    public enum OutType { SOURCE, F32, F16, BF16, Q8_0, Q4_0 }

    private GgufConverter() {}

    public static void convert(ModelSource source, Path out, OutType outType) throws IOException {
        ModelConfig config = source.config().orElseThrow(() ->
                new IllegalArgumentException(source.path() + ": no config.json; cannot write GGUF model metadata"));
        String arch = ModelConfigs.ggufArchitecture(config).orElseThrow(() ->
                new IllegalArgumentException(source.path() + ": architecture " + config.architecture() + " cannot be converted to GGUF"));
        // the vocabulary below is sized by the config: hold it to the weights first (a hostile vocab_size would size it)
        long[] embedding = source.shape("model.embed_tokens.weight").orElseThrow(() ->
                new io.entrollm.format.FormatException(source.path(), "missing tensor 'model.embed_tokens.weight'"));
        if (!java.util.Arrays.equals(embedding, new long[] {config.vocabSize(), config.hiddenSize()})) {
            throw io.entrollm.format.FormatException.forTensor(source.path(), "model.embed_tokens.weight", "has shape "
                    + java.util.Arrays.toString(embedding) + ", the config implies [" + config.vocabSize() + ", " + config.hiddenSize() + "]");
        }
        // and a malformed tokenizer is refused by the reader that names its file, not half-converted
        source.tokenizerJson().ifPresent(json -> io.entrollm.tokenizer.ByteLevelBpeTokenizer.fromJson(json, source.tokenizerOrigin()));
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.string(arch));
        meta.put("general.name", GgufValue.string(source.path().toAbsolutePath().normalize().getFileName().toString()));
        meta.put("general.alignment", GgufValue.u32(32));
        meta.put(arch + ".context_length", GgufValue.u32(config.maxPositionEmbeddings()));
        meta.put(arch + ".embedding_length", GgufValue.u32(config.hiddenSize()));
        meta.put(arch + ".block_count", GgufValue.u32(config.numLayers()));
        meta.put(arch + ".feed_forward_length", GgufValue.u32(config.intermediateSize()));
        meta.put(arch + ".attention.head_count", GgufValue.u32(config.numHeads()));
        meta.put(arch + ".attention.head_count_kv", GgufValue.u32(config.numKvHeads()));
        meta.put(arch + ".attention.key_length", GgufValue.u32(config.headDim()));
        meta.put(arch + ".attention.value_length", GgufValue.u32(config.headDim()));
        meta.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.f32(config.rmsNormEps()));
        meta.put(arch + ".rope.freq_base", GgufValue.f32(config.ropeTheta()));
        meta.put(arch + ".rope.dimension_count", GgufValue.u32(config.headDim()));
        meta.put(arch + ".vocab_size", GgufValue.u32(config.vocabSize()));
        RopeScaling rs = config.ropeScaling();
        if (rs != null) {
            meta.put(arch + ".rope.scaling.type", GgufValue.string(rs.type()));
            if (!Double.isNaN(rs.factor())) meta.put(arch + ".rope.scaling.factor", GgufValue.f32(rs.factor()));
            if (rs.originalMaxPositionEmbeddings() > 0) {
                meta.put(arch + ".rope.scaling.original_context_length", GgufValue.u32(rs.originalMaxPositionEmbeddings()));
            }
        }
        source.tokenizerJson().ifPresent(json -> addTokenizer(meta, json, config));
        chatTemplate(source).ifPresent(t -> meta.put("tokenizer.chat_template", GgufValue.string(t)));

        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = new ArrayList<>();
            for (Tensor t : source.tensors()) {
                String name = LlamaTensorNames.toGguf(t.name()).orElseThrow(() ->
                        new IllegalArgumentException(source.path() + ": tensor '" + t.name() + "' has no llama.cpp GGUF name"));
                // 1-D tensors (norms, biases) stay F32 whatever the out type, as llama.cpp's own converter keeps them
                // (its binary ops take no bf16 operand beside f32: a bf16 norm crashes it at the first token)
                Tensor g = t.renamed(name);
                if (arch.equals("llama") && name.contains(".attn_q.")) g = RopePermutation.toGguf(g, config.numHeads(), arena);
                if (arch.equals("llama") && name.contains(".attn_k.")) g = RopePermutation.toGguf(g, config.numKvHeads(), arena);
                tensors.add(retype(g, t.shape().length == 1 ? OutType.F32 : outType, arena));
            }
            meta.put("general.file_type", GgufValue.u32(fileType(tensors)));
            GgufWriter.write(out, meta, tensors);
        }
    }

    /** llama.cpp's {@code llama_ftype} of the most common matrix type: 0 all F32, 1 F16, 2 Q4_0, 7 Q8_0, 32 BF16. */
    private static long fileType(List<Tensor> tensors) {
        Map<DType, Long> matrices = new java.util.EnumMap<>(DType.class);
        for (Tensor t : tensors) if (t.shape().length > 1) matrices.merge(t.dtype(), t.elementCount(), Long::sum);
        DType main = matrices.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(DType.F32);
        return switch (main) {
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> 0;
        };
    }

    private static Tensor retype(Tensor t, OutType outType, Arena arena) {
        if (outType == OutType.SOURCE || !t.dtype().isFloatingPoint()) return t;
        DType target = DType.valueOf(outType.name());
        if (target.isBlockQuantized()) {
            long cols = t.shape()[t.shape().length - 1];
            if (cols % target.blockElements() != 0) target = DType.F16;   // convert_hf_to_gguf's fallback
        }
        if (t.dtype() == target) return t;
        float[] values = TensorReader.toFloats(t);
        MemorySegment out = arena.allocate(target.byteSize(values.length), 64);
        if (target.isBlockQuantized()) {
            io.entrollm.tensor.GgmlQuantize.row(target, values, 0, values.length, out, 0);
            return new Tensor(t.name(), target, t.shape(), out);
        }
        for (int i = 0; i < values.length; i++) {
            switch (target) {
                case F32 -> out.set(TensorReader.F32, 4L * i, values[i]);
                case F16 -> out.set(TensorReader.I16, 2L * i, FloatBits.floatToF16(values[i]));
                case BF16 -> out.set(TensorReader.I16, 2L * i, FloatBits.floatToBf16(values[i]));
                default -> throw new AssertionError(target);
            }
        }
        return new Tensor(t.name(), target, t.shape(), out);
    }

    /** tokenizer_config.json's chat template (the string, or the one named "default"), which llama.cpp reads from GGUF metadata. */
    static java.util.Optional<String> chatTemplate(ModelSource source) {
        return source.companionJson("tokenizer_config.json").flatMap(text -> ChatTemplates.of(
                io.entrollm.format.StrictJson.parse(source.companionOrigin("tokenizer_config.json"), text, "tokenizer_config.json")));
    }

    /**
     * llama.cpp's name for a byte-level BPE pre-tokenizer (its {@code tokenizer.ggml.pre}): GPT-2's regex
     * ({@code gpt-2}; llama.cpp refuses "gpt2") or Llama 3's split ({@code llama-bpe}); empty for any other.
     */
    static java.util.Optional<String> llamaCppPreTokenizer(JsonNode pre) {
        String type = pre.path("type").asText();
        if (type.equals("ByteLevel") && pre.path("use_regex").asBoolean(true)) return java.util.Optional.of("gpt-2");
        JsonNode seq = pre.path("pretokenizers");
        if (type.equals("Sequence") && seq.size() == 2 && seq.get(0).path("type").asText().equals("Split")
                && seq.get(0).path("pattern").path("Regex").asText().equals(io.entrollm.tokenizer.GgufTokenizers.LLAMA3_PATTERN)
                && seq.get(1).path("type").asText().equals("ByteLevel") && !seq.get(1).path("use_regex").asBoolean(true)) {
            return java.util.Optional.of("llama-bpe");
        }
        return java.util.Optional.empty();
    }

    /**
     * Byte-level BPE vocabularies become {@code tokenizer.ggml.model = "gpt2"} with tokens, types
     * (1 normal, 3 control) and merges; other tokenizer models keep only the verbatim JSON.
     */
    private static void addTokenizer(Map<String, GgufValue> meta, String json, ModelConfig config) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("tokenizer.json is not valid JSON: " + e.getMessage());
        }
        JsonNode model = root.path("model");
        boolean byteLevel = root.path("pre_tokenizer").toString().contains("ByteLevel");
        if (model.path("type").asText().equals("BPE") && byteLevel) {
            int vocab = Math.max(config.vocabSize(), model.path("vocab").size());
            String[] tokens = new String[vocab];
            long[] types = new long[vocab];
            model.path("vocab").fields().forEachRemaining(e -> {
                int id = e.getValue().asInt();
                if (id >= 0 && id < vocab) { tokens[id] = e.getKey(); types[id] = 1; }
            });
            for (JsonNode added : root.path("added_tokens")) {
                int id = added.path("id").asInt();
                if (id >= 0 && id < vocab) {
                    tokens[id] = added.path("content").asText();
                    types[id] = added.path("special").asBoolean() ? 3 : 4;
                }
            }
            List<String> tokenList = new ArrayList<>(vocab);
            List<Long> typeList = new ArrayList<>(vocab);
            for (int i = 0; i < vocab; i++) {
                tokenList.add(tokens[i] != null ? tokens[i] : "[PAD" + i + "]");
                typeList.add(tokens[i] != null ? types[i] : 5); // 5 = unused
            }
            List<String> merges = new ArrayList<>();
            for (JsonNode m : model.path("merges")) {
                merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
            }
            JsonNode pre = root.path("pre_tokenizer");
            meta.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
            meta.put("tokenizer.ggml.pre", GgufValue.string(llamaCppPreTokenizer(pre).orElseThrow(() -> new IllegalArgumentException(
                    "tokenizer.json's pre-tokenizer is neither GPT-2's byte-level regex nor Llama 3's split, the ones llama.cpp names "
                            + "(gpt-2, llama-bpe); llama.cpp could not load the GGUF: " + pre))));
            meta.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokenList));
            meta.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, typeList));
            meta.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
        }
        meta.put("tokenizer.ggml.bos_token_id", GgufValue.u32(config.bosTokenId()));
        if (!config.eosTokenIds().isEmpty()) meta.put("tokenizer.ggml.eos_token_id", GgufValue.u32(config.eosTokenIds().get(0)));
        meta.put("tokenizer.ggml.add_bos_token", GgufValue.bool(root.path("post_processor").toString().contains("\"SpecialToken\"")));
        meta.put(GgufModel.HF_TOKENIZER_KEY, GgufValue.string(json));
    }
}
