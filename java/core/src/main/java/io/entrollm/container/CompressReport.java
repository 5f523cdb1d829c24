package io.entrollm.container;

import java.util.List;

/** What a compression produced, per tensor and in total. */
public record CompressReport(List<TensorRow> tensors, long sourceBytes, long fileBytes) {

    /**
     * One tensor. Bit counts are totals for the tensor; {@code overheadBits} = codebook + chunk index +
     * scales/zeros + bitstream word padding, of which {@code paramsBits} are the scales and zero points
     * (for GGML blocks: their side bytes).
     */
    public record TensorRow(String name, long[] shape, String encoding, String scheme, long weights, double entropyBitsPerWeight,
                            long codedBits, long overheadBits, double mse, long sourceBytes, long paramsBits) {

        public TensorRow(String name, long[] shape, String encoding, String scheme, long weights, double entropyBitsPerWeight,
                         long codedBits, long overheadBits, double mse, long sourceBytes) {
            this(name, shape, encoding, scheme, weights, entropyBitsPerWeight, codedBits, overheadBits, mse, sourceBytes, 0);
        }

        /** Quantized (Huffman-coded or packed), as opposed to stored raw. */
        public boolean coded() { return !encoding.equals("raw"); }

        public double codedBitsPerWeight() { return weights == 0 ? 0 : (double) codedBits / weights; }

        public double overheadBitsPerWeight() { return weights == 0 ? 0 : (double) overheadBits / weights; }
    }

    /** The same report rebuilt from a written file (section sizes and the directory's statistics). */
    public static CompressReport fromFile(EntroFile f) {
        List<TensorRow> rows = new java.util.ArrayList<>();
        for (EntroEntry e : f.entries()) {
            switch (e) {
                case EntroEntry.Raw r -> {
                    long bytes = f.sections().get(r.rawSection()).length();
                    rows.add(new TensorRow(r.name(), r.shape(), "raw", r.sourceDtype().name(), r.elementCount(), Double.NaN,
                            bytes * 8, 0, 0, bytes));
                }
                case EntroEntry.Packed p -> {
                    long packedBits = 8 * f.sections().get(p.packedSection()).length();
                    long paramsBits = 8 * f.sections().get(p.paramsSection()).length();
                    rows.add(new TensorRow(p.name(), p.shape(), "packed", schemeLabel(p.scheme(), p.sign()), p.elementCount(), p.entropyBits(),
                            packedBits, paramsBits, p.mse(), p.sourceDtype().byteSize(p.elementCount()), paramsBits));
                }
                case EntroEntry.GgmlCoded g -> rows.add(ggmlRow(g, f.sections().get(g.sideSection()).length(), f.sections().get(g.codebookSection()).length()
                        + f.sections().get(g.chunkIndexSection()).length() + f.sections().get(g.bitstreamSection()).length()));
                case EntroEntry.Coded c -> {
                    long sectionBits = 8 * (f.sections().get(c.paramsSection()).length() + f.sections().get(c.codebookSection()).length()
                            + f.sections().get(c.chunkIndexSection()).length() + f.sections().get(c.bitstreamSection()).length());
                    rows.add(new TensorRow(c.name(), c.shape(), "huffman", schemeLabel(c.scheme(), c.sign()), c.elementCount(), c.entropyBits(), c.totalBits(),
                            sectionBits - c.totalBits(), c.mse(), c.sourceDtype().byteSize(c.elementCount()), 8 * f.sections().get(c.paramsSection()).length()));
                }
            }
        }
        com.fasterxml.jackson.databind.JsonNode src = f.directory().source();
        long sourceBytes = src != null && src.has("bytes") ? src.get("bytes").asLong() : rows.stream().mapToLong(TensorRow::sourceBytes).sum();
        return new CompressReport(List.copyOf(rows), sourceBytes, f.fileBytes());
    }

    /**
     * A GGML tensor kept exactly: its symbols' bits are the coded bits; side bytes (the blocks' scales), codebook,
     * chunk index and word padding are overhead. No quantization error (mse 0): the weights are the source's.
     */
    static TensorRow ggmlRow(EntroEntry.GgmlCoded g, long sideBytes, long huffmanSectionBytes) {
        return new TensorRow(g.name(), g.shape(), "ggml-huffman", g.sourceDtype().name(), g.elementCount(), g.entropyBits(), g.totalBits(),
                8 * (sideBytes + huffmanSectionBytes) - g.totalBits(), 0, g.sourceDtype().byteSize(g.elementCount()), 8 * sideBytes);
    }

    /** {@code asym}, {@code sym}, or {@code unsigned+}/{@code unsigned-} with the stored common sign. */
    public static String schemeLabel(io.entrollm.quant.AppliedScheme scheme, int sign) {
        return scheme == io.entrollm.quant.AppliedScheme.UNSIGNED ? (sign > 0 ? "unsigned+" : "unsigned-")
                : scheme.name().toLowerCase(java.util.Locale.ROOT);
    }

    public long quantizedWeights() { return tensors.stream().filter(TensorRow::coded).mapToLong(TensorRow::weights).sum(); }

    public long codedBits() { return tensors.stream().filter(TensorRow::coded).mapToLong(TensorRow::codedBits).sum(); }

    public long overheadBits() { return tensors.stream().filter(TensorRow::coded).mapToLong(TensorRow::overheadBits).sum(); }

    /** Scales and zero points (GGML: side bytes) per quantized weight. */
    public double paramsBitsPerWeight() {
        return quantizedWeights() == 0 ? 0 : (double) tensors.stream().filter(TensorRow::coded).mapToLong(TensorRow::paramsBits).sum() / quantizedWeights();
    }

    /** Weighted order-0 entropy over all quantized weights (each tensor's own distribution). */
    public double entropyBitsPerWeight() {
        double bits = tensors.stream().filter(TensorRow::coded).mapToDouble(r -> r.entropyBitsPerWeight() * r.weights()).sum();
        return quantizedWeights() == 0 ? 0 : bits / quantizedWeights();
    }

    public double bitsPerWeight() { return quantizedWeights() == 0 ? 0 : (double) codedBits() / quantizedWeights(); }

    public double bitsPerWeightWithOverhead() {
        return quantizedWeights() == 0 ? 0 : (double) (codedBits() + overheadBits()) / quantizedWeights();
    }

    /** Bytes of the quantized weights' coded data plus overhead. */
    public long quantizedCodedBytes() { return (codedBits() + overheadBits() + 7) / 8; }

    /** Bytes of the same symbols packed one per byte (uint8) and two per byte (uint4 nibbles). */
    public long packedUint8Bytes() { return quantizedWeights(); }

    public long packedUint4Bytes() { return (quantizedWeights() + 1) / 2; }

    public long quantizedSourceBytes() { return tensors.stream().filter(TensorRow::coded).mapToLong(TensorRow::sourceBytes).sum(); }
}
