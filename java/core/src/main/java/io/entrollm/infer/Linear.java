package io.entrollm.infer;

/**
 * A weight matrix {@code W[rows][cols]} (PyTorch Linear layout) in whatever form it is stored, and the
 * products the forward pass needs from it. Implementations compute from the stored form directly
 * (io.entrollm.infer.kernels): float32, f16/bf16, int8/int4 symbols with group scales, GGML blocks.
 */
public interface Linear {
    int rows();

    int cols();

    /**
     * {@code out[t * rows + o] = sum_i x[t * cols + i] * W[o][i] (+ bias[o])} for {@code t < tokens}:
     * all rows, parallel over blocks of rows on {@code workers}.
     */
    void apply(float[] x, int tokens, float[] bias, float[] out, Workers workers);

    /** Row {@code r} as float32 into {@code out[off, off + cols)} (embedding lookups). */
    void row(int r, float[] out, int off);

    /** Bytes this matrix occupies in memory in its stored form (mapped or decoded at load). */
    long bytes();
}
