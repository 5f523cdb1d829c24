package io.entrollm.container;

import io.entrollm.tensor.Tensor;

import java.util.Locale;

/**
 * Which tensors are quantized: every 2-D floating-point matrix (attention and MLP projections, fused
 * ones included, and ONNX MatMul initializers, which carry no {@code .weight} suffix); token and
 * position embeddings and the LM head only on request. Norms and biases (1-D) stay in their source
 * dtype. The compressor and the compressibility analysis share this rule.
 */
public final class TensorSelection {
    private TensorSelection() {}

    /** Embedding tables (any naming: {@code model.embed_tokens}, {@code embeddings.word_embeddings}, ...) and the LM head. */
    public static boolean isEmbeddingOrHead(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.contains("embed") || n.equals("lm_head.weight");
    }

    public static boolean quantize(Tensor t, boolean includeEmbeddings) {
        if (t.rank() != 2 || !t.dtype().isFloatingPoint()) return false;
        return includeEmbeddings || !isEmbeddingOrHead(t.name());
    }
}
