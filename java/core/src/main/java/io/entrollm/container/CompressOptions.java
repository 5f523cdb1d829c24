package io.entrollm.container;

import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;

/**
 * Settings of one compression run.
 *
 * @param maxCodeLength      Huffman code length limit in bits (the GPU lookup table has 2^this entries)
 * @param chunkSymbols       symbols per independently decodable chunk
 * @param includeEmbeddings  also quantize the token embedding and the LM head
 * @param scaleDtype         F32, or F16 (half the bytes per group; the symbols are computed for the rounded scales)
 * @param scaleSearch        choose each group's scale (and zero) to minimise its squared error, not to span its range
 * @param embeddingBits      0, or the bits of the token embedding and LM head, quantized then whatever {@code includeEmbeddings} says,
 *                           with {@code embeddingGranularity}, whatever {@code granularity} says
 * @param embeddingGranularity the granularity of the embedding and head at {@code embeddingBits}: by default per row (token);
 *                           on sotu-tiny an 8-bit table per tensor cost 0.03% of perplexity and per row nothing measurable,
 *                           though per row it codes ~1.1 bits a weight larger (each row spans all the levels)
 * @param tensorChoices      bits and granularity of named tensors, overriding the rest (a per-tensor allocation, {@code compress --target-bits})
 * @param errorFeedback      per tensor name, the mean of {@code x x^T} over a calibration text's inputs to it: those tensors' symbols are
 *                           computed with error feedback ({@link io.entrollm.quant.ErrorFeedback}, {@code compress --gptq})
 * @param scaleSearchWeights per tensor name, the mean square of each input column over a calibration text: with {@code
 *                           scaleSearch}, those tensors' scales minimise the error weighed by them ({@code compress --scale-search
 *                           --calibration}, as llama.cpp's importance matrix)
 */
public record CompressOptions(int bits, QuantScheme scheme, Granularity granularity, int maxCodeLength, int chunkSymbols,
                              boolean includeEmbeddings, Encoding encoding, io.entrollm.tensor.DType scaleDtype, boolean scaleSearch,
                              int embeddingBits, Granularity embeddingGranularity, java.util.Map<String, io.entrollm.quant.QuantChoice> tensorChoices,
                              @com.fasterxml.jackson.annotation.JsonIgnore java.util.Map<String, double[]> errorFeedback,
                              @com.fasterxml.jackson.annotation.JsonIgnore java.util.Map<String, double[]> scaleSearchWeights) {

    /**
     * How quantized symbols are stored: Huffman-coded (EntroLLM), or packed as the baseline; or KEEP_GGML:
     * nothing is quantized, a GGUF's GGML blocks are Huffman-coded exactly as they are (their quantized
     * values as symbols) and every other tensor is stored raw, so the file can be given back byte for byte.
     */
    public enum Encoding { HUFFMAN, PACKED, KEEP_GGML }

    public CompressOptions {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("--bits must be 2..8, is " + bits);
        if (maxCodeLength < bits || maxCodeLength > 16) {
            throw new IllegalArgumentException("--max-code-length must be " + bits + "..16 for " + bits + "-bit symbols, is " + maxCodeLength);
        }
        if (chunkSymbols < 32 || chunkSymbols > (1 << 20)) throw new IllegalArgumentException("--chunk-symbols must be 32..1048576, is " + chunkSymbols);
        if (encoding == null) throw new IllegalArgumentException("encoding must be given");
        if (scaleDtype != io.entrollm.tensor.DType.F32 && scaleDtype != io.entrollm.tensor.DType.F16) {
            throw new IllegalArgumentException("--scale-dtype must be f32 or f16, is " + scaleDtype);
        }
        if (embeddingBits != 0 && (embeddingBits < 2 || embeddingBits > 8)) throw new IllegalArgumentException("--embedding-bits must be 2..8, is " + embeddingBits);
        if (encoding != Encoding.KEEP_GGML && maxCodeLength < embeddingBits) {
            throw new IllegalArgumentException("--max-code-length " + maxCodeLength + " is below the " + embeddingBits + " bits of the embedding (--embedding-bits)");
        }
        if (embeddingGranularity == null) throw new IllegalArgumentException("an embedding granularity must be given");
        tensorChoices = java.util.Map.copyOf(tensorChoices);
        errorFeedback = java.util.Map.copyOf(errorFeedback);
        scaleSearchWeights = java.util.Map.copyOf(scaleSearchWeights);
        for (java.util.Map.Entry<String, io.entrollm.quant.QuantChoice> e : tensorChoices.entrySet()) {
            if (maxCodeLength < e.getValue().bits()) {
                throw new IllegalArgumentException("--max-code-length " + maxCodeLength + " is below the " + e.getValue().bits() + " bits of tensor '" + e.getKey() + "'");
            }
        }
    }

    /** Without per-tensor bits. */
    public CompressOptions(int bits, QuantScheme scheme, Granularity granularity, int maxCodeLength, int chunkSymbols,
                           boolean includeEmbeddings, Encoding encoding, io.entrollm.tensor.DType scaleDtype, boolean scaleSearch, int embeddingBits) {
        this(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, embeddingBits, Granularity.CHANNEL,
                java.util.Map.of(), java.util.Map.of(), java.util.Map.of());
    }

    /** Without separate embedding bits. */
    public CompressOptions(int bits, QuantScheme scheme, Granularity granularity, int maxCodeLength, int chunkSymbols,
                           boolean includeEmbeddings, Encoding encoding, io.entrollm.tensor.DType scaleDtype, boolean scaleSearch) {
        this(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, 0);
    }

    /** Whether symbols are computed with error feedback (reports say so; the statistics themselves stay out of them). */
    @com.fasterxml.jackson.annotation.JsonProperty("gptq")
    public boolean errorFeedbackOn() { return !errorFeedback.isEmpty(); }

    /** Whether searched scales weigh errors by a calibration text's inputs (reports say so; the statistics stay out of them). */
    @com.fasterxml.jackson.annotation.JsonProperty("scale_search_weighted")
    public boolean scaleSearchWeighted() { return scaleSearch && !scaleSearchWeights.isEmpty(); }

    /** The same settings with the scale search weighing each tensor's errors by these column weights. */
    public CompressOptions withScaleSearchWeights(java.util.Map<String, double[]> weights) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, embeddingBits,
                embeddingGranularity, tensorChoices, errorFeedback, weights);
    }

    /** Whether the token embedding and LM head are quantized. */
    public boolean quantizesEmbeddings() { return includeEmbeddings || embeddingBits > 0; }

    /** The bits of a tensor: its own from {@code tensorChoices}, else {@code embeddingBits} for the embedding and head when set, else {@code bits}. */
    public int bitsOf(String tensorName) {
        io.entrollm.quant.QuantChoice own = tensorChoices.get(tensorName);
        if (own != null) return own.bits();
        return embeddingBits > 0 && TensorSelection.isEmbeddingOrHead(tensorName) ? embeddingBits : bits;
    }

    /** The granularity of a tensor: its own from {@code tensorChoices}, else {@code embeddingGranularity} for an embedding or head at {@code embeddingBits}, else {@code granularity}. */
    public Granularity granularityOf(String tensorName) {
        io.entrollm.quant.QuantChoice own = tensorChoices.get(tensorName);
        if (own != null) return own.granularity();
        return embeddingBits > 0 && TensorSelection.isEmbeddingOrHead(tensorName) ? embeddingGranularity : granularity;
    }

    /** The same settings with these tensors quantized as chosen. */
    public CompressOptions withTensorChoices(java.util.Map<String, io.entrollm.quant.QuantChoice> perTensor) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, embeddingBits, embeddingGranularity, perTensor, errorFeedback, scaleSearchWeights);
    }

    /** The same settings with these tensors' symbols computed by error feedback under these input statistics ({@link io.entrollm.quant.ErrorFeedback}). */
    public CompressOptions withErrorFeedback(java.util.Map<String, double[]> grams) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, embeddingBits, embeddingGranularity, tensorChoices, grams, scaleSearchWeights);
    }

    /** The same settings with the embedding and head quantized at {@code embeddingBits} with granularity {@code g}. */
    public CompressOptions withEmbeddingGranularity(Granularity g) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, embeddingBits, g, tensorChoices, errorFeedback, scaleSearchWeights);
    }

    /** The same settings with the embedding and head at {@code b} bits (0: as the rest, when included). */
    public CompressOptions withEmbeddingBits(int b) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, scaleSearch, b, embeddingGranularity, tensorChoices, errorFeedback, scaleSearchWeights);
    }

    /** With float32 scales. */
    public CompressOptions(int bits, QuantScheme scheme, Granularity granularity, int maxCodeLength, int chunkSymbols,
                           boolean includeEmbeddings, Encoding encoding) {
        this(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, io.entrollm.tensor.DType.F32, false);
    }

    /** The same settings with scales (and zero points) stored as {@code dtype}. */
    public CompressOptions withScaleDtype(io.entrollm.tensor.DType dtype) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, dtype, scaleSearch, embeddingBits, embeddingGranularity, tensorChoices, errorFeedback, scaleSearchWeights);
    }

    /** The same settings with the scale search on or off. */
    public CompressOptions withScaleSearch(boolean search) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, encoding, scaleDtype, search, embeddingBits, embeddingGranularity, tensorChoices, errorFeedback, scaleSearchWeights);
    }

    /** The same settings with another encoding. */
    public CompressOptions withEncoding(Encoding e) {
        return new CompressOptions(bits, scheme, granularity, maxCodeLength, chunkSymbols, includeEmbeddings, e, scaleDtype, scaleSearch, embeddingBits, embeddingGranularity, tensorChoices, errorFeedback, scaleSearchWeights);
    }

    public static CompressOptions defaults(int bits, QuantScheme scheme, Granularity granularity) {
        return new CompressOptions(bits, scheme, granularity, Math.max(bits, HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH),
                HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS, false, Encoding.HUFFMAN);
    }
}
