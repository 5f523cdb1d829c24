package io.entrollm.synthetic;

import io.entrollm.model.LlamaTensorNames;
import io.entrollm.model.ModelSource;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.tensor.TensorReader;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The rows of a trained model grouped by role, from which {@link SyntheticModels} resamples values:
 * every layer's q/k/v/o, gate/up/down and norm rows, the embedding, final norm and head rows
 * (fused Phi-3 tensors split by {@link LlamaLayout}'s row ranges, so any supported model can donate).
 */
public final class Donor {
    /** Weight roles; a synthetic tensor row maps to exactly one. */
    public enum Role {
        EMBEDDING, ATTN_NORM, WQ, WK, WV, WO, FFN_NORM, W_GATE, W_UP, W_DOWN, FINAL_NORM, LM_HEAD;

        boolean isNorm() { return this == ATTN_NORM || this == FFN_NORM || this == FINAL_NORM; }
    }

    private final String description;
    private final Map<Role, List<float[]>> rows;
    private final Map<Role, Integer> widths;

    private Donor(String description, Map<Role, List<float[]>> rows, Map<Role, Integer> widths) {
        this.description = description;
        this.rows = rows;
        this.widths = widths;
    }

    /** Reads every weight of {@code source} (Hugging Face names) into role pools. */
    public static Donor of(ModelSource source) {
        LlamaLayout l = LlamaLayout.of(source);
        Map<Role, List<float[]>> rows = new EnumMap<>(Role.class);
        Map<Role, Integer> widths = new EnumMap<>(Role.class);
        Map<String, float[]> cache = new java.util.HashMap<>();
        add(source, cache, rows, widths, Role.EMBEDDING, l.embedding);
        add(source, cache, rows, widths, Role.FINAL_NORM, l.finalNorm);
        add(source, cache, rows, widths, Role.LM_HEAD, l.lmHead);
        for (LlamaLayout.Layer L : l.layers) {
            add(source, cache, rows, widths, Role.ATTN_NORM, L.attnNorm());
            add(source, cache, rows, widths, Role.WQ, L.wq());
            add(source, cache, rows, widths, Role.WK, L.wk());
            add(source, cache, rows, widths, Role.WV, L.wv());
            add(source, cache, rows, widths, Role.WO, L.wo());
            add(source, cache, rows, widths, Role.FFN_NORM, L.ffnNorm());
            add(source, cache, rows, widths, Role.W_GATE, L.wGate());
            add(source, cache, rows, widths, Role.W_UP, L.wUp());
            add(source, cache, rows, widths, Role.W_DOWN, L.wDown());
            cache.clear();
        }
        return new Donor(source.path().getFileName() + " (" + l.config.numLayers() + " layers, hidden " + l.config.hiddenSize() + ")", rows, widths);
    }

    private static void add(ModelSource s, Map<String, float[]> cache, Map<Role, List<float[]>> rows, Map<Role, Integer> widths, Role role,
                            LlamaLayout.WeightRef ref) {
        float[] all = cache.computeIfAbsent(ref.tensor(), n -> TensorReader.toFloats(s.tensor(n)));
        List<float[]> out = rows.computeIfAbsent(role, r -> new ArrayList<>());
        for (long r = 0; r < ref.rows(); r++) {
            int from = (int) ((ref.rowOffset() + r) * ref.cols());
            out.add(java.util.Arrays.copyOfRange(all, from, from + (int) ref.cols()));
        }
        widths.put(role, (int) ref.cols());
    }

    public String description() { return description; }

    /** A random donor row of {@code role}. */
    float[] row(Role role, SplittableRandom rnd) {
        List<float[]> pool = rows.get(role);
        return pool.get(rnd.nextInt(pool.size()));
    }

    /** The donor's row width for {@code role} (its input dimension for matrices). */
    int width(Role role) { return widths.get(role); }

    /** The role of row {@code row} of synthetic tensor {@code name} of {@code p} (fused tensors by row range). */
    static Role roleOf(String name, long row, SyntheticModels.Preset p) {
        if (name.equals("model.embed_tokens.weight")) return Role.EMBEDDING;
        if (name.equals("model.norm.weight")) return Role.FINAL_NORM;
        if (name.equals("lm_head.weight")) return Role.LM_HEAD;
        String role = LlamaTensorNames.roleOf(name);
        long kv = (long) p.hidden() / p.heads() * p.kvHeads();
        return switch (role) {
            case "input_layernorm.weight" -> Role.ATTN_NORM;
            case "post_attention_layernorm.weight" -> Role.FFN_NORM;
            case "self_attn.q_proj.weight" -> Role.WQ;
            case "self_attn.k_proj.weight" -> Role.WK;
            case "self_attn.v_proj.weight" -> Role.WV;
            case "self_attn.qkv_proj.weight" -> row < p.hidden() ? Role.WQ : row < p.hidden() + kv ? Role.WK : Role.WV;
            case "self_attn.o_proj.weight" -> Role.WO;
            case "mlp.gate_proj.weight" -> Role.W_GATE;
            case "mlp.up_proj.weight" -> Role.W_UP;
            case "mlp.gate_up_proj.weight" -> row < p.intermediate() ? Role.W_GATE : Role.W_UP;
            case "mlp.down_proj.weight" -> Role.W_DOWN;
            default -> throw new IllegalArgumentException("no donor role for '" + name + "'");
        };
    }
}
