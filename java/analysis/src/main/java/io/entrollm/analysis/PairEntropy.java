package io.entrollm.analysis;

/** The order-1 hint of the study: entropy of consecutive symbol pairs. */
public final class PairEntropy {
    private PairEntropy() {}

    /**
     * Entropy in bits per symbol of consecutive symbol pairs, H(X_2i, X_2i+1) / 2 (for nibble-packed
     * data: the entropy of the packed bytes per symbol). Below the order-0 entropy when neighbours
     * are dependent; the order-1 hint the study reports.
     */
    public static double bitsPerSymbol(byte[] symbols, int bits) {
        int alphabet = 1 << bits;
        long[] counts = new long[alphabet * alphabet];
        for (int i = 0; i + 1 < symbols.length; i += 2) counts[(symbols[i] & 0xFF) * alphabet + (symbols[i + 1] & 0xFF)]++;
        // the order-0 entropy of the pair alphabet, per symbol
        return new io.entrollm.codec.SymbolHistogram(counts).entropyBits() / 2;
    }
}
