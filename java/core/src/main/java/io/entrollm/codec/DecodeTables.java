package io.entrollm.codec;

/**
 * The lookup tables of {@link HuffmanDecoder}, indexed by the next {@code tableBits} bits of the stream.
 *
 * <ul>
 *   <li>{@code reference}: the codebook's own table ({@link HuffmanCodebook#decodeTable}), for the checked decoder.</li>
 *   <li>{@code single[i]}: bits 0-7 the length of the code that prefixes {@code i}; its symbol in each of bytes
 *       1, 2 and 3 (so that four lookups combine into four output bytes by masking alone).</li>
 *   <li>{@code multi[i]} (null where it would not pay): every whole code that fits in the table bits at
 *       {@code i}, up to {@value #MULTI_CAP}: bits 0-7 their total length, bytes 1-6 the symbols in order,
 *       bits 56-63 how many. One 8-byte store writes them all; the count says how far the output moves.</li>
 * </ul>
 * The length sits in the low bits so that a decoder shifts its bit window by the entry itself (a long
 * shift uses the count's low 6 bits), and so that the entries of four lookups summed hold their total
 * length in the low byte (at most 4 x 16 bits). A complete prefix code matches every index; only a
 * 1-symbol codebook leaves indices unmatched, and then {@code complete} is false and the fast paths are not used.
 */
record DecodeTables(int tableBits, short[] reference, int[] single, long[] multi, boolean complete) {

    /** Most symbols one multi-symbol entry holds (6 bytes of symbols, a length byte, a count byte). */
    static final int MULTI_CAP = 6;
    /**
     * Largest table the multi-symbol path uses: 2^12 longs are 32 KiB, a core's L1 data cache; past it
     * the lookups miss and one symbol a lookup from the 4-byte table is faster.
     */
    static final int MULTI_MAX_TABLE_BITS = 12;
    /**
     * Largest table the lockstep decoders take four lookups a 64-bit window from: a window holds at least
     * 57 bits of the stream (an 8-byte load shifted by up to 7), and four codes of up to 14 bits fit in 56.
     * Longer codes (only {@code --max-code-length 15} or {@code 16} makes them) decode a window per lookup.
     */
    static final int LOCKSTEP_MAX_TABLE_BITS = 14;

    /**
     * Tables for a codebook. The multi-symbol table pays when several codes usually fit in the table
     * bits: with an average code under 40% of the table bits (4-bit weights code at ~2.8 bits of 12,
     * 3.9 symbols a lookup); at 8 bits (~6.9 of 12, 1.16 symbols a lookup) its wider entries and
     * variable output steps cost more than they save. Built once per codebook ({@link HuffmanCodebook#decodeTables}).
     */
    static DecodeTables of(HuffmanCodebook codebook, long totalBits, long symbols) {
        return codebook.decodeTables(symbols > 0 && totalBits < 0.4 * Math.max(1, codebook.maxLength()) * symbols);
    }

    /** Tables with the multi-symbol table or without it (tests force each decoder path). */
    static DecodeTables of(HuffmanCodebook codebook, boolean withMulti) {
        int tableBits = Math.max(1, codebook.maxLength());
        short[] ref = codebook.decodeTable(tableBits);
        int size = 1 << tableBits;
        int[] single = new int[size];
        boolean complete = true;
        for (int i = 0; i < size; i++) {
            int e = ref[i] & 0xFFFF, symbol = e >>> 8;
            complete &= e != 0;
            single[i] = (e & 0xFF) | symbol << 8 | symbol << 16 | symbol << 24;
        }
        long[] multi = withMulti && complete && tableBits <= MULTI_MAX_TABLE_BITS ? multi(single, tableBits) : null;
        return new DecodeTables(tableBits, ref, single, multi, complete);
    }

    private static long[] multi(int[] single, int tableBits) {
        int size = 1 << tableBits, mask = size - 1;
        long[] multi = new long[size];
        for (int i = 0; i < size; i++) {
            int used = 0, count = 0;
            long symbols = 0;
            while (count < MULTI_CAP) {
                int e = single[(i << used) & mask], length = e & 0xFF;
                if (used + length > tableBits) break;      // the next code runs past the index's bits
                symbols |= (long) (e >>> 8 & 0xFF) << (8 * count);
                used += length;
                count++;
            }
            multi[i] = used | symbols << 8 | (long) count << 56;
        }
        return multi;
    }
}
