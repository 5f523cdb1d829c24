package io.entrollm.model;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps Hugging Face tensor names of Llama-family checkpoints to llama.cpp's GGUF names and back
 * ({@code model.layers.3.self_attn.q_proj.weight <-> blk.3.attn_q.weight}), as llama.cpp's
 * convert_hf_to_gguf.py does for llama, qwen2 and phi3.
 */
public final class LlamaTensorNames {
    private record Rule(String hf, String gguf) {}

    private static final List<Rule> GLOBAL = List.of(
            new Rule("model.embed_tokens", "token_embd"),
            new Rule("model.norm", "output_norm"),
            new Rule("lm_head", "output"));

    private static final List<Rule> PER_LAYER = List.of(
            new Rule("input_layernorm", "attn_norm"),
            new Rule("self_attn.q_proj", "attn_q"),
            new Rule("self_attn.k_proj", "attn_k"),
            new Rule("self_attn.v_proj", "attn_v"),
            new Rule("self_attn.o_proj", "attn_output"),
            new Rule("self_attn.qkv_proj", "attn_qkv"),
            new Rule("post_attention_layernorm", "ffn_norm"),
            new Rule("mlp.gate_proj", "ffn_gate"),
            new Rule("mlp.up_proj", "ffn_up"),
            new Rule("mlp.down_proj", "ffn_down"),
            // Phi-3 fuses gate and up; llama.cpp stores the fused matrix as ffn_up.
            new Rule("mlp.gate_up_proj", "ffn_up"));

    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)\\.(weight|bias)");
    private static final Pattern GLOBAL_NAME = Pattern.compile("(.+)\\.(weight|bias)");

    private static final String LAYER_PREFIX = "model.layers.";

    private LlamaTensorNames() {}

    /** The decoder layer of a Hugging Face tensor name ({@code model.layers.N.*}), or -1 for other tensors. */
    public static int layerOf(String hfName) {
        if (!hfName.startsWith(LAYER_PREFIX)) return -1;
        int end = hfName.indexOf('.', LAYER_PREFIX.length());
        return end < 0 ? -1 : Integer.parseInt(hfName.substring(LAYER_PREFIX.length(), end));
    }

    /** A layer tensor's name without its layer prefix ({@code self_attn.q_proj.weight}). */
    public static String roleOf(String hfName) {
        if (layerOf(hfName) < 0) throw new IllegalArgumentException("'" + hfName + "' is not a decoder-layer tensor");
        return hfName.substring(hfName.indexOf('.', LAYER_PREFIX.length()) + 1);
    }

    /** The GGUF name, or empty when llama.cpp has none for this tensor. */
    public static Optional<String> toGguf(String hfName) {
        Matcher m = HF_LAYER.matcher(hfName);
        if (m.matches()) {
            for (Rule r : PER_LAYER) {
                if (r.hf.equals(m.group(2))) return Optional.of("blk." + m.group(1) + "." + r.gguf + "." + m.group(3));
            }
            return Optional.empty();
        }
        m = GLOBAL_NAME.matcher(hfName);
        if (m.matches()) {
            for (Rule r : GLOBAL) if (r.hf.equals(m.group(1))) return Optional.of(r.gguf + "." + m.group(2));
        }
        return Optional.empty();
    }

    /**
     * The Hugging Face name of a GGUF tensor. {@code fusedGateUp} says whether {@code ffn_up} holds
     * Phi-3's fused gate+up matrix (true for phi3).
     */
    public static Optional<String> toHuggingFace(String ggufName, boolean fusedGateUp) {
        Matcher m = GGUF_LAYER.matcher(ggufName);
        if (m.matches()) {
            for (Rule r : PER_LAYER) {
                if (!r.gguf.equals(m.group(2))) continue;
                if (r.gguf.equals("ffn_up") && (r.hf.equals("mlp.gate_up_proj") != fusedGateUp)) continue;
                return Optional.of("model.layers." + m.group(1) + "." + r.hf + "." + m.group(3));
            }
            return Optional.empty();
        }
        m = GLOBAL_NAME.matcher(ggufName);
        if (m.matches()) {
            for (Rule r : GLOBAL) if (r.gguf.equals(m.group(1))) return Optional.of(r.hf + "." + m.group(2));
        }
        return Optional.empty();
    }
}
