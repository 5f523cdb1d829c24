package io.entrollm.infer;

import io.entrollm.model.ModelConfig;

/** The CPU reference path as a {@link CausalLm}: {@link LlamaCpu} with its KV cache. */
public final class CpuCausalLm implements CausalLm {
    private final LlamaCpu model;
    private KvCache cache;

    public CpuCausalLm(LlamaWeights weights) { this.model = new LlamaCpu(weights); }

    @Override public ModelConfig config() { return model.config(); }

    @Override public String device() { return "cpu"; }

    @Override
    public void startSequence(int capacity) {
        if (cache == null || cache.capacity() < capacity) cache = new KvCache(model.config(), capacity);
    }

    @Override
    public float[] forward(int[] tokens, int pos0, int logitRows) {
        if (cache == null) throw new IllegalStateException("startSequence first");
        return model.forward(tokens, pos0, cache, logitRows);
    }

    @Override public void close() { cache = null; }
}
