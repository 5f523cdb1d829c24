package io.entrollm.residency;

import io.entrollm.infer.LlamaLayout;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The byte sizes the residency decision needs, per layer: stored (the layer's {@link WeightBlock}:
 * entropy-coded, packed or as in the source file) and in the form the GPU computes from
 * ({@link WeightBlock.Stored#formBytes()}: packed symbols with scales, stored halves, float32 vectors),
 * plus what every mode needs regardless.
 *
 * @param layerCodedBytes    each decoder layer's weight block
 * @param layerDecodedBytes  each decoder layer's weights in their GPU form (what the decoded mode holds)
 * @param scratchBytes       one layer's decode scratch (the compressed mode's, one of the streamed mode's
 *                           two sets): per weight role, the largest part of a form that is not read in
 *                           place from the layer's block (coded symbols, widened vectors), over all layers
 * @param otherDecodedBytes  embedding (unless read on the host, {@link io.entrollm.infer.EmbeddingRows}), final norm
 *                           and head in their GPU form, in every mode
 * @param headReadBytes      of those, what one token reads: final norm and head (the embedding gives one row)
 * @param kvCacheBytes       the KV cache for the session's context (f16 keys and values)
 * @param activationBytes    activations and scratch of the largest forward pass (a prompt, a perplexity window),
 *                           with the f16 copies the prompt path multiplies through cuBLAS
 */
public record ModelFootprint(List<Long> layerCodedBytes, List<Long> layerDecodedBytes, long scratchBytes, long otherDecodedBytes,
                             long headReadBytes, long kvCacheBytes, long activationBytes) {
    public ModelFootprint {
        if (layerCodedBytes.size() != layerDecodedBytes.size()) throw new IllegalArgumentException("one coded and one decoded size per layer");
        layerCodedBytes = List.copyOf(layerCodedBytes);
        layerDecodedBytes = List.copyOf(layerDecodedBytes);
    }

    /** Uniform layers (the scratch is one decoded layer), and every other byte read per token. */
    public ModelFootprint(List<Long> layerCodedBytes, List<Long> layerDecodedBytes, long otherDecodedBytes, long kvCacheBytes, long activationBytes) {
        this(layerCodedBytes, layerDecodedBytes, layerDecodedBytes.stream().mapToLong(Long::longValue).max().orElse(0), otherDecodedBytes,
                otherDecodedBytes, kvCacheBytes, activationBytes);
    }

    /** The footprint for a context of {@code contextTokens} processed in one forward pass at most (the conservative plan). */
    public static ModelFootprint of(ModelSource source, int contextTokens) { return of(source, contextTokens, contextTokens); }

    /**
     * The footprint of a model for a context of {@code contextTokens} whose largest forward pass holds
     * {@code batchTokens} tokens (the prompt when generating, the window for perplexity), from metadata
     * alone (nothing is decoded).
     */
    public static ModelFootprint of(ModelSource source, int contextTokens, int batchTokens) {
        if (contextTokens < 1 || batchTokens < 1 || batchTokens > contextTokens) {
            throw new IllegalArgumentException("need 1 <= batch tokens (" + batchTokens + ") <= context tokens (" + contextTokens + ")");
        }
        LlamaLayout layout = LlamaLayout.of(source);
        ModelConfig c = layout.config;
        List<WeightBlock> blocks = WeightBlock.layers(source, layout);
        Map<String, Long> scratchByRole = new LinkedHashMap<>();
        for (WeightBlock b : blocks) {
            for (WeightBlock.Stored s : b.tensors()) scratchByRole.merge(io.entrollm.model.LlamaTensorNames.roleOf(s.name()), s.residentScratchBytes(), Math::max);
        }
        List<String> otherNames = List.copyOf(new LinkedHashSet<>(List.of(layout.embedding.tensor(), layout.finalNorm.tensor(), layout.lmHead.tensor())));
        WeightBlock others = WeightBlock.of(source, -1, otherNames);
        long otherBytes = others.formBytes();
        if (io.entrollm.infer.EmbeddingRows.of(source, layout).isPresent()) otherBytes -= formBytes(others, layout.embedding.tensor());
        long headRead = formBytes(others, layout.finalNorm.tensor()) + formBytes(others, layout.lmHead.tensor());
        long kv = 2L * 2 * c.numLayers() * contextTokens * c.kvDim(); // keys and values in f16
        // LlamaGpu's activation buffers for the batch, logits for every row of it (perplexity scores them
        // all), and the prompt path's f16 copies: one weight matrix (the head in slices of that size), the
        // batch's activations as two halves
        long activations = 4L * batchTokens * (3L * c.hiddenSize() + 2L * c.qDim() + 2L * c.intermediateSize() + c.vocabSize())
                + 2L * f16SliceElements(layout) + 2L * 2 * batchTokens * layout.widestLayerInput();
        return new ModelFootprint(blocks.stream().map(WeightBlock::bytes).toList(), blocks.stream().map(WeightBlock::formBytes).toList(),
                sum(scratchByRole), otherBytes, headRead, kv, activations);
    }

    /**
     * Weights of the one f16 weight slice LlamaGpu's prompt path converts at a time: the largest layer
     * matrix (as a matmul sees it), and at least one row of the head, which goes through in slices.
     */
    public static long f16SliceElements(LlamaLayout layout) {
        return Math.max(layout.largestLayerMatrix(), layout.lmHead.cols());
    }

    private static long sum(Map<String, Long> m) { return m.values().stream().mapToLong(Long::longValue).sum(); }

    private static long formBytes(WeightBlock b, String name) {
        return b.tensors().stream().filter(t -> t.name().equals(name)).mapToLong(WeightBlock.Stored::formBytes).findFirst().orElse(0);
    }

    public long codedBytes() { return layerCodedBytes.stream().mapToLong(Long::longValue).sum(); }

    public long decodedBytes() { return layerDecodedBytes.stream().mapToLong(Long::longValue).sum(); }

    public long largestCodedLayer() { return layerCodedBytes.stream().mapToLong(Long::longValue).max().orElse(0); }

    public long largestDecodedLayer() { return layerDecodedBytes.stream().mapToLong(Long::longValue).max().orElse(0); }

    /** GPU bytes each mode needs. */
    public long requiredBytes(ResidencyMode mode) {
        long always = otherDecodedBytes + kvCacheBytes + activationBytes;
        return switch (mode) {
            case DECODED -> always + decodedBytes();
            // every layer's block + one layer of decode scratch
            case COMPRESSED -> always + codedBytes() + scratchBytes;
            // two staging blocks (copy of layer i+1 while layer i decodes) + two scratch sets (decode i+1 while i computes)
            case STREAMED -> always + 2 * largestCodedLayer() + 2 * scratchBytes;
        };
    }

    /** Pinned host memory the STREAMED mode needs: every block, or two bounce buffers when reading from storage. */
    public long pinnedHostBytes(StreamSource source) {
        return source == StreamSource.HOST ? codedBytes() : 2 * largestCodedLayer();
    }

    /**
     * Layer weight bytes one forward pass moves: the weights' GPU form read by the matmuls (decoded), stored
     * blocks read by the decoder (compressed) or copied over the bus (streamed). What differs between formats.
     */
    public long layerBytesPerToken(ResidencyMode mode) { return mode == ResidencyMode.DECODED ? decodedBytes() : codedBytes(); }

    /** Every weight byte one token reads: its layers' and the final norm and head (decoded in every mode). */
    public long weightBytesPerToken(ResidencyMode mode) { return layerBytesPerToken(mode) + headReadBytes; }
}
