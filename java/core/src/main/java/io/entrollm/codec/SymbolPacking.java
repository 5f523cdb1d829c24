package io.entrollm.codec;

/**
 * Quantized symbols as a deployment would store them without entropy coding: one per byte for 5..8
 * bits, two per byte for 2..4 bits (first symbol in the low nibble, as GGML's Q4 layouts do). The
 * .entro "packed" encoding and the compressibility study both use this layout.
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

    /** Bytes of {@code count} packed symbols. */
    public static long packedBytes(long count, int bits) { return nibblePacked(bits) ? (count + 1) / 2 : count; }

    public static byte[] unpack(byte[] packed, int bits, int count) {
        if (!nibblePacked(bits)) return java.util.Arrays.copyOf(packed, count);
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) out[i] = (byte) ((packed[i >> 1] >> ((i & 1) * 4)) & 0x0F);
        return out;
    }
}
