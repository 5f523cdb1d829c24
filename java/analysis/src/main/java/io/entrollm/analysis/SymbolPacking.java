package io.entrollm.analysis;

/**
 * Quantized symbols as a deployment would store them without entropy coding: one per byte for 5..8
 * bits, two per byte for 2..4 bits (first symbol in the low nibble, as GGML's Q4 layouts do).
 */
public final class SymbolPacking {
    private SymbolPacking() {}

    public static boolean nibblePacked(int bits) { return bits <= 4; }

    public static byte[] pack(byte[] symbols, int bits) {
        if (!nibblePacked(bits)) return symbols.clone();
        byte[] out = new byte[(symbols.length + 1) / 2];
        for (int i = 0; i < symbols.length; i++) {
            out[i >> 1] |= (byte) ((symbols[i] & 0x0F) << ((i & 1) * 4));
        }
        return out;
    }

    public static byte[] unpack(byte[] packed, int bits, int count) {
        if (!nibblePacked(bits)) return java.util.Arrays.copyOf(packed, count);
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) out[i] = (byte) ((packed[i >> 1] >> ((i & 1) * 4)) & 0x0F);
        return out;
    }

    /**
     * Entropy in bits per symbol of consecutive symbol pairs, H(X_2i, X_2i+1) / 2 (for nibble-packed
     * data: the entropy of the packed bytes per symbol). Below the order-0 entropy when neighbours
     * are dependent; the order-1 hint the study reports.
     */
    public static double pairEntropyBitsPerSymbol(byte[] symbols, int bits) {
        int alphabet = 1 << bits;
        long[] counts = new long[alphabet * alphabet];
        long pairs = symbols.length / 2;
        for (int i = 0; i + 1 < symbols.length; i += 2) counts[(symbols[i] & 0xFF) * alphabet + (symbols[i + 1] & 0xFF)]++;
        if (pairs == 0) return 0;
        double h = 0;
        for (long c : counts) {
            if (c == 0) continue;
            double p = (double) c / pairs;
            h -= p * Math.log(p);
        }
        return h / Math.log(2) / 2;
    }
}
