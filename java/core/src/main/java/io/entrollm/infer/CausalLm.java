package io.entrollm.infer;

import io.entrollm.model.ModelConfig;

/**
 * A decoder that runs token blocks against its own KV cache: the one interface generation and
 * perplexity drive, whatever the device.
 */
public interface CausalLm extends AutoCloseable {
    ModelConfig config();

    /** "cpu" or "gpu (device name)". */
    String device();

    /** Starts a new sequence with room for {@code capacity} positions (the cache is cleared or reallocated). */
    void startSequence(int capacity);

    /**
     * Runs {@code tokens} at positions {@code [pos0, pos0 + T)} and returns the logits of the last
     * {@code logitRows} tokens as {@code [logitRows, vocab]}.
     */
    float[] forward(int[] tokens, int pos0, int logitRows);

    @Override
    void close();
}
