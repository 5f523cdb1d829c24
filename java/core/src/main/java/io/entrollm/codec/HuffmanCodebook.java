package io.entrollm.codec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A canonical, length-limited Huffman code over byte symbols.
 *
 * <p>Code lengths are optimal under the length limit (package-merge, Larmore and Hirschberg 1990).
 * Codes are canonical as in DEFLATE: ordered by (length, symbol), each code the previous plus one,
 * shifted left when the length grows; so the lengths alone define the code, and that is all the
 * container stores. A single used symbol gets a 1-bit code; an unused alphabet has no codes.
 */
public final class HuffmanCodebook {
    public static final int MAX_SUPPORTED_LENGTH = 16;

    private final int[] lengths;
    private final int[] codes;
    private final int maxLength;
    /** The decoder's tables, built on first use: a tensor decoded a piece at a time shares one codebook (without, with the multi-symbol table). */
    private volatile DecodeTables tablesSingle, tablesMulti;

    private HuffmanCodebook(int[] lengths) {
        this.lengths = lengths;
        this.codes = canonicalCodes(lengths);
        int m = 0;
        for (int l : lengths) m = Math.max(m, l);
        this.maxLength = m;
    }

    /** Builds optimal code lengths no longer than {@code lengthLimit} for the histogram. */
    public static HuffmanCodebook build(SymbolHistogram histogram, int lengthLimit) {
        if (lengthLimit < 1 || lengthLimit > MAX_SUPPORTED_LENGTH) {
            throw new IllegalArgumentException("code length limit must be 1.." + MAX_SUPPORTED_LENGTH + ", is " + lengthLimit);
        }
        int n = histogram.alphabetSize();
        int[] lengths = new int[n];
        List<Integer> used = new ArrayList<>();
        for (int s = 0; s < n; s++) if (histogram.count(s) > 0) used.add(s);
        if (used.size() == 1) {
            lengths[used.get(0)] = 1;
        } else if (used.size() > 1) {
            if (used.size() > (1L << lengthLimit)) {
                throw new IllegalArgumentException(used.size() + " symbols cannot be coded with codes of at most " + lengthLimit + " bits");
            }
            packageMerge(histogram, used, lengthLimit, lengths);
        }
        return new HuffmanCodebook(lengths);
    }

    /** A codebook from stored code lengths, validated (Kraft sum exactly 1, or one 1-bit code). */
    public static HuffmanCodebook fromLengths(int[] lengths) {
        int used = 0;
        long kraft = 0; // in units of 2^-MAX_SUPPORTED_LENGTH
        for (int l : lengths) {
            if (l < 0 || l > MAX_SUPPORTED_LENGTH) throw new IllegalArgumentException("code length " + l + " out of range");
            if (l > 0) {
                used++;
                kraft += 1L << (MAX_SUPPORTED_LENGTH - l);
            }
        }
        boolean complete = kraft == 1L << MAX_SUPPORTED_LENGTH;
        boolean single = used == 1 && kraft == 1L << (MAX_SUPPORTED_LENGTH - 1);
        if (used > 0 && !complete && !single) {
            throw new IllegalArgumentException("code lengths do not form a complete prefix code (Kraft sum "
                    + kraft + "/" + (1L << MAX_SUPPORTED_LENGTH) + ")");
        }
        return new HuffmanCodebook(lengths.clone());
    }

    /**
     * Package-merge: for each used symbol, its code length is the number of selected items (out of
     * the 2(n-1) cheapest in the final list) that contain it.
     */
    private static void packageMerge(SymbolHistogram h, List<Integer> used, int limit, int[] lengths) {
        record Item(long weight, int[] symbols) {}
        List<Item> leaves = new ArrayList<>();
        for (int s : used) leaves.add(new Item(h.count(s), new int[] {s}));
        leaves.sort(Comparator.comparingLong(Item::weight));
        List<Item> list = leaves;
        for (int level = 1; level < limit; level++) {
            List<Item> packaged = new ArrayList<>();
            for (int i = 0; i + 1 < list.size(); i += 2) {
                Item a = list.get(i), b = list.get(i + 1);
                int[] syms = Arrays.copyOf(a.symbols, a.symbols.length + b.symbols.length);
                System.arraycopy(b.symbols, 0, syms, a.symbols.length, b.symbols.length);
                packaged.add(new Item(a.weight + b.weight, syms));
            }
            List<Item> merged = new ArrayList<>(leaves.size() + packaged.size());
            int i = 0, j = 0;
            while (i < leaves.size() || j < packaged.size()) {
                if (j >= packaged.size() || (i < leaves.size() && leaves.get(i).weight <= packaged.get(j).weight)) merged.add(leaves.get(i++));
                else merged.add(packaged.get(j++));
            }
            list = merged;
        }
        int take = 2 * (used.size() - 1);
        for (int k = 0; k < take; k++) for (int s : list.get(k).symbols) lengths[s]++;
    }

    private static int[] canonicalCodes(int[] lengths) {
        int[] countPerLength = new int[MAX_SUPPORTED_LENGTH + 1];
        for (int l : lengths) if (l > 0) countPerLength[l]++;
        int[] next = new int[MAX_SUPPORTED_LENGTH + 2];
        int code = 0;
        for (int l = 1; l <= MAX_SUPPORTED_LENGTH; l++) {
            code = (code + countPerLength[l - 1]) << 1;
            next[l] = code;
        }
        int[] codes = new int[lengths.length];
        for (int s = 0; s < lengths.length; s++) if (lengths[s] > 0) codes[s] = next[lengths[s]]++;
        return codes;
    }

    public int alphabetSize() { return lengths.length; }

    /** Code length of a symbol in bits, 0 if the symbol has no code. */
    public int length(int symbol) { return lengths[symbol]; }

    /** The code of a symbol, right-aligned in an int, {@link #length} bits long. */
    public int code(int symbol) { return codes[symbol]; }

    public int[] lengths() { return lengths.clone(); }

    /** Longest code in bits (0 for an empty codebook). */
    /** The decoder's tables for this code (immutable), built once: the multi-symbol table takes ~0.2 ms, a 4M-symbol piece ~1.5. */
    DecodeTables decodeTables(boolean multi) {
        DecodeTables t = multi ? tablesMulti : tablesSingle;
        if (t == null) {                        // two threads may both build them: the same values, either is kept
            t = DecodeTables.of(this, multi);
            if (multi) tablesMulti = t;
            else tablesSingle = t;
        }
        return t;
    }

    public int maxLength() { return maxLength; }

    /** Total bits of coding a histogram with this code. */
    public long codedBits(SymbolHistogram h) {
        long bits = 0;
        for (int s = 0; s < lengths.length; s++) bits += h.count(s) * lengths[s];
        return bits;
    }

    /**
     * The decode table for {@code tableBits}-bit lookups ({@code tableBits >= maxLength}): entry
     * {@code i} is {@code (symbol << 8) | length} of the code that prefixes the bits of {@code i}, or
     * 0 where no code matches (only possible for the 1-symbol code).
     */
    public short[] decodeTable(int tableBits) {
        if (tableBits < maxLength) throw new IllegalArgumentException("table of " + tableBits + " bits for codes of " + maxLength);
        short[] table = new short[1 << tableBits];
        for (int s = 0; s < lengths.length; s++) {
            int l = lengths[s];
            if (l == 0) continue;
            int first = codes[s] << (tableBits - l), count = 1 << (tableBits - l);
            short entry = (short) ((s << 8) | l);
            Arrays.fill(table, first, first + count, entry);
        }
        return table;
    }
}
