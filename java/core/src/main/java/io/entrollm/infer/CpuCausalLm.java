package io.entrollm.infer;

import io.entrollm.model.ModelConfig;

/**
 * The CPU path as a {@link CausalLm}: {@link LlamaCpu} with its KV cache and worker threads. It owns
 * the weights and the workers: closing it frees both.
 */
public final class CpuCausalLm implements CausalLm {
    private final LlamaWeights weights;
    private final Workers workers;
    private final LlamaCpu model;
    private KvCache cache;

    /** On every core. */
    public CpuCausalLm(LlamaWeights weights) { this(weights, 0); }

    /** On {@code threads} cores (0: all). */
    public CpuCausalLm(LlamaWeights weights, int threads) {
        this.weights = weights;
        this.workers = Workers.of(threads);
        this.model = new LlamaCpu(weights, workers);
    }

    public LlamaWeights weights() { return weights; }

    public int threads() { return workers.threads(); }

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

    @Override
    public void close() {
        cache = null;
        workers.close();
        weights.close();
    }
}
