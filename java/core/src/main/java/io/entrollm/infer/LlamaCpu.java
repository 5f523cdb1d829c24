package io.entrollm.infer;

import io.entrollm.model.ModelConfig;

/**
 * The CPU forward pass of Llama-family decoders, float32 activations (as Hugging Face transformers
 * computes in fp32): RMSNorm, RoPE, grouped-query attention over a KV cache, SwiGLU MLP, tied or
 * untied head. The matrices are {@link Linear}s: float32 copies for the reference, or their stored
 * form ({@link LlamaWeights#loadStored}). Several tokens are processed at once (prompt prefill,
 * perplexity windows), which turns the matrix-vector products into matrix-matrix products.
 */
public final class LlamaCpu {
    private final LlamaWeights w;
    private final ModelConfig c;
    private final Rope rope;
    private final Workers workers;

    public LlamaCpu(LlamaWeights weights, Workers workers) {
        this.w = weights;
        this.c = weights.config;
        this.rope = new Rope(c);
        this.workers = workers;
    }

    public ModelConfig config() { return c; }

    /**
     * Runs {@code tokens} at positions {@code [pos0, pos0 + T)}, appending their keys and values to the
     * cache, and returns the logits of the last {@code logitRows} tokens as {@code [logitRows, vocab]}.
     */
    public float[] forward(int[] tokens, int pos0, KvCache cache, int logitRows) {
        int T = tokens.length, dim = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.intermediateSize();
        if (pos0 + T > cache.capacity()) throw new IllegalArgumentException("context of " + (pos0 + T) + " tokens exceeds the cache (" + cache.capacity() + ")");
        if (logitRows < 0 || logitRows > T) throw new IllegalArgumentException("logitRows " + logitRows + " not in [0, " + T + "]");
        float[] x = new float[T * dim];
        for (int t = 0; t < T; t++) {
            int tok = tokens[t];
            if (tok < 0 || tok >= c.vocabSize()) throw new IllegalArgumentException("token id " + tok + " outside the vocabulary");
            w.embedding.row(tok, x, t * dim);
        }
        float[] xb = new float[T * dim], q = new float[T * qDim], k = new float[T * kvDim], v = new float[T * kvDim];
        float[] att = new float[T * qDim], o = new float[T * dim];
        float[] gate = new float[T * ffn], up = new float[T * ffn];
        for (int l = 0; l < c.numLayers(); l++) {
            LlamaWeights.Layer L = w.layers[l];
            VectorMath.rmsNorm(x, T, dim, L.attnNorm(), c.rmsNormEps(), xb);
            L.wq().apply(xb, T, L.bq(), q, workers);
            L.wk().apply(xb, T, L.bk(), k, workers);
            L.wv().apply(xb, T, L.bv(), v, workers);
            for (int t = 0; t < T; t++) {
                rope.apply(q, t * qDim, c.numHeads(), pos0 + t);
                rope.apply(k, t * kvDim, c.numKvHeads(), pos0 + t);
            }
            System.arraycopy(k, 0, cache.keys[l], pos0 * kvDim, T * kvDim);
            System.arraycopy(v, 0, cache.values[l], pos0 * kvDim, T * kvDim);
            attention(q, cache.keys[l], cache.values[l], T, pos0, att);
            L.wo().apply(att, T, L.bo(), o, workers);
            for (int i = 0; i < x.length; i++) x[i] += o[i];

            VectorMath.rmsNorm(x, T, dim, L.ffnNorm(), c.rmsNormEps(), xb);
            L.wGate().apply(xb, T, null, gate, workers);
            L.wUp().apply(xb, T, null, up, workers);
            for (int i = 0; i < gate.length; i++) {
                float g = gate[i];
                gate[i] = g / (1f + (float) Math.exp(-g)) * up[i]; // silu(gate) * up
            }
            L.wDown().apply(gate, T, null, o, workers);
            for (int i = 0; i < x.length; i++) x[i] += o[i];
        }
        float[] last = new float[logitRows * dim];
        System.arraycopy(x, (T - logitRows) * dim, last, 0, logitRows * dim);
        float[] normed = new float[logitRows * dim];
        VectorMath.rmsNorm(last, logitRows, dim, w.finalNorm, c.rmsNormEps(), normed);
        float[] logits = new float[logitRows * c.vocabSize()];
        w.lmHead.apply(normed, logitRows, null, logits, workers);
        return logits;
    }

    /** Causal attention of T new queries over positions [0, pos0 + t] of the cache, one task per (token, head). */
    private void attention(float[] q, float[] keys, float[] values, int T, int pos0, float[] out) {
        int hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim(), heads = c.numHeads(), group = c.kvGroupSize();
        float scale = (float) (1.0 / Math.sqrt(hd));
        workers.forEach(T * heads, th -> {
            int t = th / heads, h = th % heads, kvh = h / group, n = pos0 + t + 1;
            float[] scores = new float[n];
            for (int s = 0; s < n; s++) scores[s] = VectorMath.dot(q, t * qDim + h * hd, keys, s * kvDim + kvh * hd, hd) * scale;
            VectorMath.softmax(scores, 0, n);
            int o = t * qDim + h * hd;
            java.util.Arrays.fill(out, o, o + hd, 0f);
            for (int s = 0; s < n; s++) VectorMath.axpy(scores[s], values, s * kvDim + kvh * hd, out, o, hd);
        });
    }
}
