package io.entrollm.codec;

/**
 * The lookup tables of {@link HuffmanDecoder}, indexed by the next {@code tableBits} bits of the stream.
 *
 * <ul>
 *   <li>{@code reference}: the codebook's own table ({@link HuffmanCodebook#decodeTable}), for the checked decoder.</li>
 *   <li>{@code single[i]}: bits 0-7 the length of the code that prefixes {@code i}, bits 8-15 its symbol.</li>
 *   <li>{@code pairs[i]} (null where it would not pay): bits 0-7 the total length, bits 8-15 the first
 *       symbol, 16-23 the second, 24-25 how many symbols (1 or 2: two when both codes fit in the table bits).</li>
 * </ul>
 * The length sits in the low bits so that a decoder shifts its bit window by the entry itself (a long
 * shift uses the count's low 6 bits). A complete prefix code matches every index; only a 1-symbol
 * codebook leaves indices unmatched, and then {@code complete} is false and the fast paths are not used.
 */
record DecodeTables(int tableBits, short[] reference, int[] single, int[] pairs, boolean complete) {

    /**
     * Tables for a codebook. The 2-symbol table pays when two codes usually fit in the table bits:
     * with an average code under 40% of the table bits (4-bit weights code at ~2.8 bits of 12); at 8
     * bits (~6.9 of 12) pairs are rare and the second lookup's bookkeeping only costs time.
     */
    static DecodeTables of(HuffmanCodebook codebook, long totalBits, long symbols) {
        return of(codebook, symbols > 0 && totalBits < 0.4 * Math.max(1, codebook.maxLength()) * symbols);
    }

    /** Tables with the 2-symbol table or without it (tests force each decoder path). */
    static DecodeTables of(HuffmanCodebook codebook, boolean withPairs) {
        int tableBits = Math.max(1, codebook.maxLength());
        short[] ref = codebook.decodeTable(tableBits);
        int size = 1 << tableBits, mask = size - 1;
        int[] single = new int[size];
        boolean complete = true;
        for (int i = 0; i < size; i++) {
            int e = ref[i] & 0xFFFF;
            complete &= e != 0;
            single[i] = (e & 0xFF) | (e >>> 8) << 8;
        }
        int[] pairs = null;
        if (withPairs && complete) {
            pairs = new int[size];
            for (int i = 0; i < size; i++) {
                int a = single[i], lenA = a & 0xFF;
                int b = single[(i << lenA) & mask], lenB = b & 0xFF;
                pairs[i] = lenA + lenB <= tableBits
                        ? (lenA + lenB) | (a & 0xFF00) | (b & 0xFF00) << 8 | 2 << 24
                        : lenA | (a & 0xFF00) | 1 << 24;
            }
        }
        return new DecodeTables(tableBits, ref, single, pairs, complete);
    }
}
