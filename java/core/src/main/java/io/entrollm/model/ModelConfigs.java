package io.entrollm.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Builds {@link ModelConfig} from Hugging Face config.json or from GGUF metadata, and back. */
public final class ModelConfigs {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Hugging Face architecture class for each GGUF {@code general.architecture}, and back. */
    private static final Map<String, String> HF_TO_GGUF_ARCH = Map.of(
            "LlamaForCausalLM", "llama", "MistralForCausalLM", "llama",
            "Qwen2ForCausalLM", "qwen2", "Phi3ForCausalLM", "phi3");
    private static final Map<String, String> GGUF_TO_HF_ARCH = Map.of(
            "llama", "LlamaForCausalLM", "qwen2", "Qwen2ForCausalLM", "phi3", "Phi3ForCausalLM");

    private ModelConfigs() {}

    public static ModelConfig fromConfigJson(Path file) throws IOException {
        JsonNode root = io.entrollm.format.StrictJson.parse(file, Files.readAllBytes(file), "config.json");
        if (!root.isObject()) throw new FormatException(file, "not a JSON object");
        try {
            return fromConfigJson(root);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    static ModelConfig fromConfigJson(JsonNode c) {
        String arch = c.path("architectures").path(0).asText("LlamaForCausalLM");
        String modelType = c.path("model_type").asText("llama");
        int hidden = requiredInt(c, "hidden_size");
        int heads = requiredInt(c, "num_attention_heads");
        if (heads < 1) throw new IllegalArgumentException("num_attention_heads must be positive, is " + heads);
        int kvHeads = optionalInt(c, "num_key_value_heads", heads);
        int headDim = optionalInt(c, "head_dim", hidden / heads);
        JsonNode ropeParams = c.path("rope_parameters");
        double theta = ropeParams.hasNonNull("rope_theta") ? ropeParams.get("rope_theta").asDouble()
                : c.path("rope_theta").asDouble(10000.0);
        RopeScaling scaling = ropeScaling(ropeParams.isObject() ? ropeParams : null);
        if (scaling == null) scaling = ropeScaling(c.path("rope_scaling").isObject() ? c.get("rope_scaling") : null);
        boolean attentionBias = c.hasNonNull("attention_bias") ? c.get("attention_bias").asBoolean() : modelType.equals("qwen2");
        return new ModelConfig(arch, modelType, hidden, requiredInt(c, "num_hidden_layers"), heads, kvHeads, headDim,
                requiredInt(c, "intermediate_size"), requiredInt(c, "vocab_size"),
                c.path("rms_norm_eps").asDouble(1e-6), theta, scaling,
                optionalInt(c, "max_position_embeddings", 2048),
                c.path("tie_word_embeddings").asBoolean(false), attentionBias, c.path("mlp_bias").asBoolean(false),
                optionalInt(c, "bos_token_id", 1), intList(c.get("eos_token_id")));
    }

    private static RopeScaling ropeScaling(JsonNode n) {
        if (n == null) return null;
        String type = n.hasNonNull("rope_type") ? n.get("rope_type").asText() : n.path("type").asText("default");
        if (type.equals("default")) return null;
        return new RopeScaling(type, n.path("factor").asDouble(Double.NaN), n.path("low_freq_factor").asDouble(Double.NaN),
                n.path("high_freq_factor").asDouble(Double.NaN), n.path("original_max_position_embeddings").asInt(0));
    }

    private static int requiredInt(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException((n == null ? "missing \"" + key + "\"" : "\"" + key + "\": " + n + " is not a 32-bit integer"));
        }
        return n.asInt();
    }

    /** An optional integer field: absent or null gives {@code fallback}; anything but a 32-bit integer is an error. */
    private static int optionalInt(JsonNode c, String key, int fallback) {
        return c.hasNonNull(key) ? requiredInt(c, key) : fallback;
    }

    private static List<Integer> intList(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        for (JsonNode e : n.isArray() ? n : List.of(n)) {
            if (!e.isIntegralNumber() || !e.canConvertToInt()) throw new IllegalArgumentException("\"eos_token_id\": " + e + " is not a token id");
            out.add(e.asInt());
        }
        return out;
    }

    // ---------------------------------------------------------------- GGUF

    /** Whether a GGUF {@code general.architecture} is one this project runs. */
    public static boolean ggufArchitectureSupported(String arch) { return GGUF_TO_HF_ARCH.containsKey(arch); }

    /** GGUF {@code general.architecture} for a Hugging Face architecture, or empty if unsupported. */
    public static Optional<String> ggufArchitecture(ModelConfig c) {
        return Optional.ofNullable(HF_TO_GGUF_ARCH.get(c.architecture()));
    }

    /** Config from the {@code general.*}, {@code <arch>.*} and {@code tokenizer.ggml.*} keys. */
    public static ModelConfig fromGguf(GgufFile gguf) {
        Path path = gguf.path();
        String arch = gguf.string("general.architecture").orElseThrow(() ->
                new FormatException(path, "metadata has no general.architecture"));
        String hfArch = GGUF_TO_HF_ARCH.get(arch);
        if (hfArch == null) throw new FormatException(path, "architecture '" + arch + "' is not supported (llama, qwen2, phi3 are)");
        int hidden = positiveInt(gguf, arch + ".embedding_length", requiredLong(gguf, arch + ".embedding_length"));
        int heads = positiveInt(gguf, arch + ".attention.head_count", requiredLong(gguf, arch + ".attention.head_count"));
        int kvHeads = intOr(gguf, arch + ".attention.head_count_kv", heads);
        int headDim = intOr(gguf, arch + ".attention.key_length", hidden / heads);
        int vocab = gguf.get(arch + ".vocab_size").isPresent() ? intOr(gguf, arch + ".vocab_size", 0)
                : gguf.strings("tokenizer.ggml.tokens").map(List::size).orElseThrow(() ->
                        new FormatException(path, "no vocab size: neither " + arch + ".vocab_size nor tokenizer.ggml.tokens"));
        RopeScaling scaling = gguf.string(arch + ".rope.scaling.type").filter(t -> !t.equals("none"))
                .map(t -> new RopeScaling(t, dbl(gguf, arch + ".rope.scaling.factor").orElse(Double.NaN), Double.NaN, Double.NaN,
                        intOr(gguf, arch + ".rope.scaling.original_context_length", 0)))
                .orElse(null);
        boolean tied = gguf.tensors().stream().noneMatch(t -> t.name().equals("output.weight"));
        boolean qBias = gguf.tensors().stream().anyMatch(t -> t.name().equals("blk.0.attn_q.bias"));
        boolean mlpBias = gguf.tensors().stream().anyMatch(t -> t.name().equals("blk.0.ffn_up.bias"));
        List<Integer> eos = new ArrayList<>();
        gguf.integer("tokenizer.ggml.eos_token_id").ifPresent(v -> eos.add((int) (long) v));
        try {
            return new ModelConfig(hfArch, arch, hidden, positiveInt(gguf, arch + ".block_count", requiredLong(gguf, arch + ".block_count")),
                    heads, kvHeads, headDim,
                    positiveInt(gguf, arch + ".feed_forward_length", requiredLong(gguf, arch + ".feed_forward_length")), vocab,
                    dbl(gguf, arch + ".attention.layer_norm_rms_epsilon").orElse(1e-5),
                    dbl(gguf, arch + ".rope.freq_base").orElse(10000.0), scaling,
                    intOr(gguf, arch + ".context_length", 2048), tied, qBias, mlpBias,
                    intOr(gguf, "tokenizer.ggml.bos_token_id", 1), eos);
        } catch (IllegalArgumentException e) {
            throw new FormatException(path, e.getMessage());
        }
    }

    /** A count or size that must be 1..2^31-1 (it divides and sizes arrays). */
    private static int positiveInt(GgufFile g, String key, long v) {
        if (v < 1 || v > Integer.MAX_VALUE) throw new FormatException(g.path(), key + " = " + v + " must be 1.." + Integer.MAX_VALUE);
        return (int) v;
    }

    private static long requiredLong(GgufFile g, String key) {
        return g.integer(key).orElseThrow(() -> new FormatException(g.path(), "metadata has no " + key));
    }

    private static int intOr(GgufFile g, String key, int fallback) {
        long v = g.integer(key).orElse((long) fallback);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw new FormatException(g.path(), key + " = " + v + " is out of range");
        return (int) v;
    }

    private static Optional<Double> dbl(GgufFile g, String key) { return g.number(key); }
}
