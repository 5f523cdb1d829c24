package io.entrollm.infer;

import io.entrollm.model.ModelSource;
import io.entrollm.model.StoredTensor;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.util.Optional;

/**
 * The embedding rows a forward pass needs, read on the host from the (memory-mapped) table as
 * float32. A pass reads one row per token, so when the head is a separate matrix the table need not
 * occupy GPU memory at all (Mistral-7B: 0.5 GB as float32); the GPU path then uploads the T rows it
 * needs instead of gathering them on the device. Tied models keep the table on the GPU, where the
 * head reads all of it anyway; a quantized .entro embedding (--include-embeddings) stays on the GPU
 * too, as its rows are not addressable without decoding the tensor.
 */
public final class EmbeddingRows {
    private final Tensor table;
    private final int dim;

    private EmbeddingRows(Tensor table, int dim) {
        this.table = table;
        this.dim = dim;
    }

    /** A host-side reader for {@code source}'s embedding, or empty when it belongs on the GPU. */
    public static Optional<EmbeddingRows> of(ModelSource source, LlamaLayout layout) {
        if (layout.embedding.tensor().equals(layout.lmHead.tensor())) return Optional.empty();
        Tensor table = switch (source.stored(layout.embedding.tensor())) {
            case StoredTensor.Raw r -> r.tensor();
            case StoredTensor.GgmlBlocks g -> g.tensor();
            case StoredTensor.Quantized q -> null;
        };
        if (table == null) return Optional.empty();
        int dim = layout.config.hiddenSize();
        if (table.dtype().isBlockQuantized() && dim % table.dtype().blockElements() != 0) return Optional.empty();
        return Optional.of(new EmbeddingRows(table, dim));
    }

    /** Row {@code tokens[t]} at {@code [t * dim, (t + 1) * dim)}; token ids are checked by the caller. */
    public float[] rows(int[] tokens) {
        float[] out = new float[tokens.length * dim];
        for (int t = 0; t < tokens.length; t++) TensorReader.readFloats(table.dtype(), table.data(), (long) tokens[t] * dim, out, t * dim, dim);
        return out;
    }

    /** Bytes of the table, as float32, that the GPU does not hold. */
    public long float32Bytes() { return 4 * table.elementCount(); }
}
