package io.entrollm.container;

import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Granularity;
import io.entrollm.tensor.DType;

/** One tensor of a .entro file, as its directory describes it. */
public sealed interface EntroEntry permits EntroEntry.Raw, EntroEntry.Quantized, EntroEntry.HuffmanCoded {
    String name();

    long[] shape();

    DType sourceDtype();

    default long elementCount() { return io.entrollm.tensor.Tensor.elementCount(shape()); }

    /** A tensor stored unquantized, in its source dtype (norms, biases, optionally embeddings). */
    record Raw(String name, long[] shape, DType sourceDtype, int rawSection) implements EntroEntry {}

    /** A quantized tensor: integer symbols, plus scales (and zeros) per group of {@code groupSize} symbols. */
    sealed interface Quantized extends EntroEntry permits Coded, Packed {
        int bits();

        AppliedScheme scheme();

        Granularity granularity();

        long groupSize();

        int sign();

        int paramsSection();

        /** F32, or F16 (version 2) for the scales and zero points in the PARAMS section. */
        DType paramsDtype();

        double mse();

        default long groups() { return elementCount() == 0 ? 0 : elementCount() / groupSize(); }

        /** Bytes of the PARAMS section: scales, then zero points for ASYM. */
        default long paramsBytes() { return groups() * paramsDtype().byteSize(1) * (scheme() == io.entrollm.quant.AppliedScheme.ASYM ? 2 : 1); }
    }

    /**
     * A quantized tensor stored without entropy coding: symbols one per byte (5..8 bits) or two per
     * byte, low nibble first (2..4 bits); the baseline the Huffman-coded form is compared with.
     */
    record Packed(String name, long[] shape, DType sourceDtype, int bits, AppliedScheme scheme, Granularity granularity,
                  long groupSize, int sign, int paramsSection, DType paramsDtype, int packedSection, double entropyBits, double mse) implements Quantized {}

    /** Symbols Huffman-coded in chunks (docs/FORMAT.md, "Huffman coding"): our quantization's, or a GGML file's. */
    sealed interface HuffmanCoded extends EntroEntry permits Coded, GgmlCoded {
        int bits();

        int chunkSymbols();

        long totalBits();

        int maxCodeLength();

        int codebookSection();

        int chunkIndexSection();

        int bitstreamSection();

        default int chunks() { return io.entrollm.codec.HuffmanStream.chunkCount(elementCount(), chunkSymbols()); }
    }

    /**
     * A tensor of GGML blocks (Q8_0, Q4_K, ...; {@code sourceDtype}) kept exactly: the quantized value of
     * each weight is a Huffman-coded symbol of {@code bits} bits, in element order; every other byte of
     * each block (scales, minimums) lies in the SIDE section, block after block ({@link io.entrollm.tensor.GgmlSymbols}).
     */
    record GgmlCoded(String name, long[] shape, DType sourceDtype, int bits, int chunkSymbols, long totalBits, int maxCodeLength,
                     int sideSection, int codebookSection, int chunkIndexSection, int bitstreamSection, double entropyBits) implements HuffmanCoded {

        public long blocks() { return elementCount() / sourceDtype.blockElements(); }
    }

    /**
     * A quantized, Huffman-coded tensor.
     *
     * @param groupSize     weights per scale; group {@code g} covers symbols {@code [g*groupSize, (g+1)*groupSize)}
     * @param totalBits     length of the coded bitstream in bits
     * @param entropyBits   order-0 entropy of its symbols, bits per weight (recorded at compress time)
     * @param mse           mean squared quantization error vs the source weights
     */
    record Coded(String name, long[] shape, DType sourceDtype, int bits, AppliedScheme scheme, Granularity granularity,
                 long groupSize, int sign, int chunkSymbols, long totalBits, int maxCodeLength,
                 int paramsSection, DType paramsDtype, int codebookSection, int chunkIndexSection, int bitstreamSection,
                 double entropyBits, double mse) implements Quantized, HuffmanCoded {

        public double codedBitsPerWeight() { return elementCount() == 0 ? 0 : (double) totalBits / elementCount(); }
    }
}
