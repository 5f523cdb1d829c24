package io.entrollm.residency;

import java.util.List;

/**
 * The byte sizes the residency decision needs, per layer: coded (as stored in .entro, entropy-coded
 * or packed) and decoded (as the matmuls read it), plus what every mode needs regardless.
 *
 * @param layerCodedBytes    coded bytes of each decoder layer's weights
 * @param layerDecodedBytes  decoded bytes of each decoder layer's weights
 * @param otherDecodedBytes  embedding, final norm and head, kept decoded in every mode
 * @param kvCacheBytes       the KV cache for the session's context
 * @param activationBytes    activations and scratch of the forward pass
 */
public record ModelFootprint(List<Long> layerCodedBytes, List<Long> layerDecodedBytes, long otherDecodedBytes, long kvCacheBytes,
                             long activationBytes) {
    public ModelFootprint {
        if (layerCodedBytes.size() != layerDecodedBytes.size()) throw new IllegalArgumentException("one coded and one decoded size per layer");
        layerCodedBytes = List.copyOf(layerCodedBytes);
        layerDecodedBytes = List.copyOf(layerDecodedBytes);
    }

    /**
     * The footprint of a model for a context of {@code contextTokens}, weights decoded to float32: coded
     * layer sizes from a .entro file's sections (other sources count as uncoded).
     */
    public static ModelFootprint of(io.entrollm.model.ModelSource source, int contextTokens) {
        io.entrollm.model.ModelConfig c = source.config().orElseThrow(() -> new IllegalArgumentException(source.path() + ": no model config"));
        io.entrollm.model.ModelSource inner = source instanceof io.entrollm.model.HuggingFaceView v ? v.unwrap() : source;
        long[] coded = new long[c.numLayers()], decoded = new long[c.numLayers()];
        long other = 0;
        if (inner instanceof io.entrollm.container.EntroModel m) {
            io.entrollm.container.EntroFile f = m.file();
            for (io.entrollm.container.EntroEntry e : f.entries()) {
                int layer = io.entrollm.model.LlamaTensorNames.layerOf(e.name());
                long dec = 4 * e.elementCount();
                long cod = switch (e) {
                    case io.entrollm.container.EntroEntry.Raw r -> dec;
                    case io.entrollm.container.EntroEntry.Packed k -> f.sections().get(k.packedSection()).length()
                            + f.sections().get(k.paramsSection()).length();
                    case io.entrollm.container.EntroEntry.Coded k -> f.sections().get(k.bitstreamSection()).length()
                            + f.sections().get(k.chunkIndexSection()).length() + f.sections().get(k.codebookSection()).length()
                            + f.sections().get(k.paramsSection()).length();
                };
                if (layer < 0) other += dec;
                else { coded[layer] += cod; decoded[layer] += dec; }
            }
        } else {
            for (String name : source.tensors().stream().map(io.entrollm.tensor.Tensor::name).toList()) {
                long dec = 4 * io.entrollm.tensor.Tensor.elementCount(source.shape(name).orElseThrow());
                int layer = io.entrollm.model.LlamaTensorNames.layerOf(name);
                if (layer < 0) other += dec;
                else { coded[layer] += dec; decoded[layer] += dec; }
            }
        }
        long kv = 2L * 4 * c.numLayers() * contextTokens * c.kvDim();
        long activations = 4L * contextTokens * (3L * c.hiddenSize() + 2L * c.qDim() + 2L * c.intermediateSize() + c.vocabSize());
        return new ModelFootprint(java.util.Arrays.stream(coded).boxed().toList(), java.util.Arrays.stream(decoded).boxed().toList(),
                other, kv, activations);
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
            // all coded layers + one decoded layer of scratch
            case COMPRESSED -> always + codedBytes() + largestDecodedLayer();
            // two coded staging buffers (copy of layer i+1 while layer i decodes) + two decoded buffers (decode i+1 while i computes)
            case STREAMED -> always + 2 * largestCodedLayer() + 2 * largestDecodedLayer();
        };
    }
}
