package io.entrollm.infer;

import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.util.Arrays;
import java.util.Optional;

/**
 * Float32 copies of a Llama-family model's weights, from any source with Hugging Face names (open
 * it with {@code ModelSources.openHuggingFace}). Fused tensors (Phi-3 {@code qkv_proj},
 * {@code gate_up_proj}) are split into their parts here, so the forward pass has one layout.
 */
public final class LlamaWeights {
    /** One decoder layer; matrices are {@code [out, in]} row-major, biases may be null. */
    public record Layer(float[] attnNorm, float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv,
                        float[] wo, float[] bo, float[] ffnNorm, float[] wGate, float[] wUp, float[] wDown) {}

    public final ModelConfig config;
    public final float[] embedding;   // (vocab, dim)
    public final Layer[] layers;
    public final float[] finalNorm;   // (dim)
    public final float[] lmHead;      // (vocab, dim); the embedding itself when tied

    private LlamaWeights(ModelConfig config, float[] embedding, Layer[] layers, float[] finalNorm, float[] lmHead) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    public static LlamaWeights load(ModelSource source) {
        ModelConfig c = source.config().orElseThrow(() -> new IllegalArgumentException(source.path() + ": no model config"));
        int dim = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), ffn = c.intermediateSize();
        float[] embedding = get(source, "model.embed_tokens.weight", c.vocabSize(), dim);
        Layer[] layers = new Layer[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            float[] wq, wk, wv, bq = null, bk = null, bv = null;
            Optional<Tensor> qkv = source.find(p + "self_attn.qkv_proj.weight");
            if (qkv.isPresent()) {
                float[] fused = floats(qkv.get(), q + 2 * kv, dim, source);
                wq = Arrays.copyOfRange(fused, 0, q * dim);
                wk = Arrays.copyOfRange(fused, q * dim, (q + kv) * dim);
                wv = Arrays.copyOfRange(fused, (q + kv) * dim, (q + 2 * kv) * dim);
            } else {
                wq = get(source, p + "self_attn.q_proj.weight", q, dim);
                wk = get(source, p + "self_attn.k_proj.weight", kv, dim);
                wv = get(source, p + "self_attn.v_proj.weight", kv, dim);
                bq = optional(source, p + "self_attn.q_proj.bias", q);
                bk = optional(source, p + "self_attn.k_proj.bias", kv);
                bv = optional(source, p + "self_attn.v_proj.bias", kv);
            }
            float[] wGate, wUp;
            Optional<Tensor> gateUp = source.find(p + "mlp.gate_up_proj.weight");
            if (gateUp.isPresent()) {
                float[] fused = floats(gateUp.get(), 2 * ffn, dim, source);
                wGate = Arrays.copyOfRange(fused, 0, ffn * dim);
                wUp = Arrays.copyOfRange(fused, ffn * dim, 2 * ffn * dim);
            } else {
                wGate = get(source, p + "mlp.gate_proj.weight", ffn, dim);
                wUp = get(source, p + "mlp.up_proj.weight", ffn, dim);
            }
            layers[l] = new Layer(get(source, p + "input_layernorm.weight", dim), wq, bq, wk, bk, wv, bv,
                    get(source, p + "self_attn.o_proj.weight", dim, q), optional(source, p + "self_attn.o_proj.bias", dim),
                    get(source, p + "post_attention_layernorm.weight", dim), wGate, wUp,
                    get(source, p + "mlp.down_proj.weight", dim, ffn));
        }
        float[] norm = get(source, "model.norm.weight", dim);
        Optional<Tensor> head = source.find("lm_head.weight");
        float[] lmHead = head.isPresent() ? floats(head.get(), c.vocabSize(), dim, source) : embedding;
        if (head.isEmpty() && !c.tieWordEmbeddings()) {
            throw new IllegalArgumentException(source.path() + ": no lm_head.weight and tie_word_embeddings is false");
        }
        return new LlamaWeights(c, embedding, layers, norm, lmHead);
    }

    private static float[] get(ModelSource s, String name, long... shape) {
        Tensor t = s.find(name).orElseThrow(() -> new IllegalArgumentException(s.path() + ": missing tensor '" + name + "'"));
        return floats(t, shape, s);
    }

    private static float[] optional(ModelSource s, String name, long... shape) {
        return s.find(name).map(t -> floats(t, shape, s)).orElse(null);
    }

    private static float[] floats(Tensor t, long rows, long cols, ModelSource s) { return floats(t, new long[] {rows, cols}, s); }

    private static float[] floats(Tensor t, long[] shape, ModelSource s) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(s.path() + ": tensor '" + t.name() + "' has shape " + t.shapeString()
                    + ", the config implies " + Arrays.toString(shape));
        }
        return TensorReader.toFloats(t);
    }
}
