package io.entrollm.container;

import io.entrollm.tensor.Tensor;

/**
 * Which tensors are quantized: every 2-D floating-point {@code .weight} (attention and MLP
 * projections, fused ones included); the token embedding and LM head only on request. Norms and
 * biases (1-D) stay in their source dtype.
 */
public final class TensorSelection {
    private TensorSelection() {}

    public static boolean isEmbeddingOrHead(String name) {
        return name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight");
    }

    public static boolean quantize(Tensor t, boolean includeEmbeddings) {
        if (t.rank() != 2 || !t.dtype().isFloatingPoint() || !t.name().endsWith(".weight")) return false;
        return includeEmbeddings || !isEmbeddingOrHead(t.name());
    }
}
