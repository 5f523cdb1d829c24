package io.entrollm.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * Decodes a {@link HuffmanStream} on all cores. An invalid code or a chunk that does not end exactly
 * where the next begins is reported as corruption, never decoded into wrong symbols silently.
 *
 * <p>How it is fast (the techniques of Huff0's {@code HUF_decompress4X}, on our unchanged format):
 * one thread decodes {@value #LANES} chunks in lockstep, so the out-of-order core overlaps four
 * independent lookup-shift-lookup chains; one 64-bit window (three words, no refill branch) serves
 * four lookups; where codes are short a 2-symbol table decodes two symbols per lookup
 * ({@link DecodeTables}); four decoded symbols leave in one store. Validation moves to chunk ends: a
 * complete prefix code has no invalid codes, so each chunk need only consume exactly its bits (a
 * corrupt chunk cannot). The 1-symbol codebook, the one incomplete code, and chunks whose worst-case
 * reads could pass the end of the word array (a corrupt chunk reads further than a valid one) take
 * {@link #decodeChunkChecked}, the reference decoder, which checks every symbol.
 */
public final class HuffmanDecoder {
    /** Chunks one thread decodes in lockstep. */
    static final int LANES = 4;
    /** Several decoded symbols written by one store (the JIT makes these plain unaligned stores). */
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private HuffmanDecoder() {}

    /** Thrown when the coded data is inconsistent. */
    public static final class CorruptStreamException extends RuntimeException {
        private final int chunk;
        private final String detail;

        public CorruptStreamException(String message) { this(-1, message); }

        /** A fault of chunk {@code chunk}; the message reads "chunk N detail". */
        public CorruptStreamException(int chunk, String detail) {
            super(chunk < 0 ? detail : "chunk " + chunk + " " + detail);
            this.chunk = chunk;
            this.detail = detail;
        }

        /** The same fault with its chunk counted from {@code firstChunk}: a stream cut from a longer one reports the longer one's numbers. */
        public CorruptStreamException renumbered(int firstChunk) {
            return chunk < 0 ? this : new CorruptStreamException(chunk + firstChunk, detail);
        }
    }

    /** Decodes on all cores. */
    public static byte[] decode(HuffmanStream stream) {
        if (stream.symbolCount() > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too many symbols for one array");
        byte[] out = new byte[(int) stream.symbolCount()];
        decodeInto(stream, out);
        return out;
    }

    /** Decodes on all cores into {@code out} (at least {@code symbolCount} bytes). */
    public static void decodeInto(HuffmanStream stream, byte[] out) {
        DecodeTables tables = prepare(stream, out);
        if (tables == null) return;
        IntStream.range(0, groups(stream)).parallel().forEach(g -> decodeGroup(stream, tables, g, out));
    }

    /** Decodes on the calling thread only (for single-thread benchmarks). */
    public static void decodeSingleThread(HuffmanStream stream, byte[] out) {
        DecodeTables tables = prepare(stream, out);
        if (tables == null) return;
        for (int g = 0; g < groups(stream); g++) decodeGroup(stream, tables, g, out);
    }

    /** One thread, with the 2-symbol table forced on or off: tests reach every decoder path. */
    static void decodeSingleThread(HuffmanStream stream, byte[] out, boolean pairs) {
        if (prepare(stream, out) == null) return;
        DecodeTables tables = DecodeTables.of(stream.codebook(), pairs);
        for (int g = 0; g < groups(stream); g++) decodeGroup(stream, tables, g, out);
    }

    /** The reference decoder on the calling thread: chunk by chunk, every symbol checked (the baseline of benchmarks and tests). */
    public static void decodeReferenceSingleThread(HuffmanStream stream, byte[] out) {
        if (prepare(stream, out) == null) return;
        int tableBits = Math.max(1, stream.codebook().maxLength());
        short[] table = stream.codebook().decodeTable(tableBits);
        for (int c = 0; c < stream.chunkCount(); c++) decodeChunkChecked(stream, c, table, tableBits, out);
    }

    private static int groups(HuffmanStream s) { return (s.chunkCount() + LANES - 1) / LANES; }

    /** The chunk index and stream size are checked once, before any symbol is decoded; null: nothing to decode. */
    private static DecodeTables prepare(HuffmanStream stream, byte[] out) {
        int expectedChunks = HuffmanStream.chunkCount(stream.symbolCount(), stream.chunkSymbols());
        if (stream.chunkCount() != expectedChunks) {
            throw new CorruptStreamException("chunk index has " + stream.chunkCount() + " entries, expected " + expectedChunks);
        }
        if (stream.words().length < HuffmanStream.wordCount(stream.totalBits())) {
            throw new CorruptStreamException("bitstream of " + stream.words().length + " words is shorter than " + stream.totalBits() + " bits");
        }
        if (out.length < stream.symbolCount()) throw new IllegalArgumentException("output of " + out.length + " bytes for " + stream.symbolCount() + " symbols");
        long[] offsets = stream.chunkBitOffsets();
        for (int c = 0; c < offsets.length; c++) {
            long start = offsets[c], end = stream.chunkEndBit(c);
            if (start < 0 || end < start || end > stream.totalBits() || (c == 0 && start != 0)) {
                throw new CorruptStreamException(c, "has bit range [" + start + ", " + end + ") outside the stream");
            }
        }
        if (stream.symbolCount() == 0) return null;
        return DecodeTables.of(stream.codebook(), stream.totalBits(), stream.symbolCount());
    }

    private static void decodeGroup(HuffmanStream s, DecodeTables t, int group, byte[] out) {
        int first = group * LANES, last = Math.min(s.chunkCount(), first + LANES);
        boolean lockstep = t.complete() && last - first == LANES;
        for (int c = first; c < last && lockstep; c++) lockstep = chunkSymbols(s, c) == s.chunkSymbols() && fastPathSafe(s, t, c);
        if (lockstep) {
            if (t.pairs() != null) decodeFourPairs(s, t, first, out);
            else decodeFourSingles(s, t, first, out);
            return;
        }
        for (int c = first; c < last; c++) {
            if (t.complete() && fastPathSafe(s, t, c)) {
                long end = decodeLane(s.words(), t, s.chunkBitOffsets()[c], c * s.chunkSymbols(), chunkSymbols(s, c), out);
                finish(s, c, end);
            } else {
                decodeChunkChecked(s, c, t.reference(), t.tableBits(), out);
            }
        }
    }

    private static int chunkSymbols(HuffmanStream s, int c) {
        long first = (long) c * s.chunkSymbols();
        return (int) Math.min(s.chunkSymbols(), s.symbolCount() - first);
    }

    /** Whether every window a chunk can read, valid or corrupt, lies inside the word array (each symbol takes at most tableBits). */
    private static boolean fastPathSafe(HuffmanStream s, DecodeTables t, int c) {
        long worstEnd = s.chunkBitOffsets()[c] + (long) chunkSymbols(s, c) * t.tableBits();
        return (worstEnd >>> 5) + 2 < s.words().length;
    }

    private static void finish(HuffmanStream s, int c, long endBit) {
        long start = s.chunkBitOffsets()[c], end = s.chunkEndBit(c);
        if (endBit != end) throw new CorruptStreamException(c, "decodes " + (endBit - start) + " bits but spans " + (end - start));
    }

    /** The 64 bits of the stream starting at bit {@code pos}, left-aligned (all 64 meaningful; reads three words). */
    private static long window64(int[] words, long pos) {
        int w = (int) (pos >>> 5), skip = (int) (pos & 31);
        long hi = (long) words[w] << 32 | (words[w + 1] & 0xFFFFFFFFL);
        return hi << skip | (words[w + 2] & 0xFFFFFFFFL) >>> (32 - skip);  // skip 0: a long shift by 32 gives 0
    }

    /** The 64 bits of the stream starting at bit {@code pos}, left-aligned (at least 33 of them meaningful). */
    private static long window(int[] words, long pos) {
        int w = (int) (pos >>> 5);
        return ((long) words[w] << 32 | (words[w + 1] & 0xFFFFFFFFL)) << (pos & 31);
    }

    /** Four full chunks in lockstep, one symbol per lookup, four lookups per 64-bit window (codes are at most 16 bits). */
    private static void decodeFourSingles(HuffmanStream s, DecodeTables t, int c, byte[] out) {
        int[] words = s.words(), table = t.single();
        int shift = 64 - t.tableBits(), n = s.chunkSymbols();
        long[] offsets = s.chunkBitOffsets();
        long p0 = offsets[c], p1 = offsets[c + 1], p2 = offsets[c + 2], p3 = offsets[c + 3];
        int o0 = c * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n, k = 0;
        for (; k < n - 3; k += 4) {
            long w0 = window64(words, p0), w1 = window64(words, p1), w2 = window64(words, p2), w3 = window64(words, p3);
            int a0 = table[(int) (w0 >>> shift)], a1 = table[(int) (w1 >>> shift)];
            int a2 = table[(int) (w2 >>> shift)], a3 = table[(int) (w3 >>> shift)];
            w0 <<= a0;   // the entry's low 6 bits are the code length
            w1 <<= a1;
            w2 <<= a2;
            w3 <<= a3;
            int b0 = table[(int) (w0 >>> shift)], b1 = table[(int) (w1 >>> shift)];
            int b2 = table[(int) (w2 >>> shift)], b3 = table[(int) (w3 >>> shift)];
            w0 <<= b0;
            w1 <<= b1;
            w2 <<= b2;
            w3 <<= b3;
            int c0 = table[(int) (w0 >>> shift)], c1 = table[(int) (w1 >>> shift)];
            int c2 = table[(int) (w2 >>> shift)], c3 = table[(int) (w3 >>> shift)];
            w0 <<= c0;
            w1 <<= c1;
            w2 <<= c2;
            w3 <<= c3;
            int d0 = table[(int) (w0 >>> shift)], d1 = table[(int) (w1 >>> shift)];
            int d2 = table[(int) (w2 >>> shift)], d3 = table[(int) (w3 >>> shift)];
            INT_LE.set(out, o0 + k, packFour(a0, b0, c0, d0));
            INT_LE.set(out, o1 + k, packFour(a1, b1, c1, d1));
            INT_LE.set(out, o2 + k, packFour(a2, b2, c2, d2));
            INT_LE.set(out, o3 + k, packFour(a3, b3, c3, d3));
            p0 += (a0 & 0xFF) + (b0 & 0xFF) + (c0 & 0xFF) + (d0 & 0xFF);
            p1 += (a1 & 0xFF) + (b1 & 0xFF) + (c1 & 0xFF) + (d1 & 0xFF);
            p2 += (a2 & 0xFF) + (b2 & 0xFF) + (c2 & 0xFF) + (d2 & 0xFF);
            p3 += (a3 & 0xFF) + (b3 & 0xFF) + (c3 & 0xFF) + (d3 & 0xFF);
        }
        p0 = decodeLane(words, t, p0, o0 + k, n - k, out);
        p1 = decodeLane(words, t, p1, o1 + k, n - k, out);
        p2 = decodeLane(words, t, p2, o2 + k, n - k, out);
        p3 = decodeLane(words, t, p3, o3 + k, n - k, out);
        finishFour(s, c, p0, p1, p2, p3);
    }

    /** The symbols (bits 8-15) of four table entries as one little-endian int. */
    private static int packFour(int a, int b, int c, int d) {
        return (a >>> 8 & 0xFF) | (b & 0xFF00) | (c & 0xFF00) << 8 | (d & 0xFF00) << 16;
    }

    /**
     * Four full chunks in lockstep, up to two symbols per lookup and four lookups per 64-bit window (up
     * to 8 symbols); each lane finishes alone once one has fewer than 8 left.
     */
    private static void decodeFourPairs(HuffmanStream s, DecodeTables t, int c, byte[] out) {
        int[] words = s.words(), pairs = t.pairs();
        int shift = 64 - t.tableBits(), n = s.chunkSymbols();
        long[] offsets = s.chunkBitOffsets();
        long p0 = offsets[c], p1 = offsets[c + 1], p2 = offsets[c + 2], p3 = offsets[c + 3];
        int o0 = c * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        int e0 = o0 + n - 7, e1 = o1 + n - 7, e2 = o2 + n - 7, e3 = o3 + n - 7;   // while 8 or more remain
        // two bytes are written per lookup: the second is overwritten when only one symbol was decoded
        while (o0 < e0 && o1 < e1 && o2 < e2 && o3 < e3) {
            long w0 = window64(words, p0), w1 = window64(words, p1), w2 = window64(words, p2), w3 = window64(words, p3);
            int x0 = pairs[(int) (w0 >>> shift)], x1 = pairs[(int) (w1 >>> shift)], x2 = pairs[(int) (w2 >>> shift)], x3 = pairs[(int) (w3 >>> shift)];
            w0 <<= x0;
            w1 <<= x1;
            w2 <<= x2;
            w3 <<= x3;
            int y0 = pairs[(int) (w0 >>> shift)], y1 = pairs[(int) (w1 >>> shift)], y2 = pairs[(int) (w2 >>> shift)], y3 = pairs[(int) (w3 >>> shift)];
            w0 <<= y0;
            w1 <<= y1;
            w2 <<= y2;
            w3 <<= y3;
            int z0 = pairs[(int) (w0 >>> shift)], z1 = pairs[(int) (w1 >>> shift)], z2 = pairs[(int) (w2 >>> shift)], z3 = pairs[(int) (w3 >>> shift)];
            w0 <<= z0;
            w1 <<= z1;
            w2 <<= z2;
            w3 <<= z3;
            int u0 = pairs[(int) (w0 >>> shift)], u1 = pairs[(int) (w1 >>> shift)], u2 = pairs[(int) (w2 >>> shift)], u3 = pairs[(int) (w3 >>> shift)];
            SHORT_LE.set(out, o0, (short) (x0 >>> 8));
            o0 += x0 >>> 24;
            SHORT_LE.set(out, o0, (short) (y0 >>> 8));
            o0 += y0 >>> 24;
            SHORT_LE.set(out, o0, (short) (z0 >>> 8));
            o0 += z0 >>> 24;
            SHORT_LE.set(out, o0, (short) (u0 >>> 8));
            o0 += u0 >>> 24;
            SHORT_LE.set(out, o1, (short) (x1 >>> 8));
            o1 += x1 >>> 24;
            SHORT_LE.set(out, o1, (short) (y1 >>> 8));
            o1 += y1 >>> 24;
            SHORT_LE.set(out, o1, (short) (z1 >>> 8));
            o1 += z1 >>> 24;
            SHORT_LE.set(out, o1, (short) (u1 >>> 8));
            o1 += u1 >>> 24;
            SHORT_LE.set(out, o2, (short) (x2 >>> 8));
            o2 += x2 >>> 24;
            SHORT_LE.set(out, o2, (short) (y2 >>> 8));
            o2 += y2 >>> 24;
            SHORT_LE.set(out, o2, (short) (z2 >>> 8));
            o2 += z2 >>> 24;
            SHORT_LE.set(out, o2, (short) (u2 >>> 8));
            o2 += u2 >>> 24;
            SHORT_LE.set(out, o3, (short) (x3 >>> 8));
            o3 += x3 >>> 24;
            SHORT_LE.set(out, o3, (short) (y3 >>> 8));
            o3 += y3 >>> 24;
            SHORT_LE.set(out, o3, (short) (z3 >>> 8));
            o3 += z3 >>> 24;
            SHORT_LE.set(out, o3, (short) (u3 >>> 8));
            o3 += u3 >>> 24;
            p0 += (x0 & 0xFF) + (y0 & 0xFF) + (z0 & 0xFF) + (u0 & 0xFF);
            p1 += (x1 & 0xFF) + (y1 & 0xFF) + (z1 & 0xFF) + (u1 & 0xFF);
            p2 += (x2 & 0xFF) + (y2 & 0xFF) + (z2 & 0xFF) + (u2 & 0xFF);
            p3 += (x3 & 0xFF) + (y3 & 0xFF) + (z3 & 0xFF) + (u3 & 0xFF);
        }
        p0 = decodeLane(words, t, p0, o0, e0 + 7 - o0, out);
        p1 = decodeLane(words, t, p1, o1, e1 + 7 - o1, out);
        p2 = decodeLane(words, t, p2, o2, e2 + 7 - o2, out);
        p3 = decodeLane(words, t, p3, o3, e3 + 7 - o3, out);
        finishFour(s, c, p0, p1, p2, p3);
    }

    private static void finishFour(HuffmanStream s, int c, long p0, long p1, long p2, long p3) {
        finish(s, c, p0);
        finish(s, c + 1, p1);
        finish(s, c + 2, p2);
        finish(s, c + 3, p3);
    }

    /**
     * One lane alone: {@code count} symbols from bit {@code pos} into {@code out[at..]}, pairs while at
     * least two remain. Returns the end bit. The caller ensured a complete code and reads inside the
     * word array.
     */
    private static long decodeLane(int[] words, DecodeTables t, long pos, int at, int count, byte[] out) {
        int shift = 64 - t.tableBits(), o = at, end = at + count;
        int[] pairs = t.pairs();
        if (pairs != null) {
            while (o < end - 1) {
                int x = pairs[(int) (window(words, pos) >>> shift)];
                SHORT_LE.set(out, o, (short) (x >>> 8));
                o += x >>> 24;
                pos += x & 0xFF;
            }
        }
        int[] single = t.single();
        for (; o < end; o++) {
            int e = single[(int) (window(words, pos) >>> shift)];
            out[o] = (byte) (e >>> 8);
            pos += e & 0xFF;
        }
        return pos;
    }

    /**
     * The reference decoder for chunk {@code c}, checking every symbol (the unit of work one GPU thread
     * does in the CUDA kernel): bits left-aligned in a 64-bit buffer refilled a word at a time; the
     * chunk's bit budget is checked per symbol and words past the array read as zero.
     */
    static void decodeChunkChecked(HuffmanStream stream, int c, short[] table, int tableBits, byte[] out) {
        int[] words = stream.words();
        long start = stream.chunkBitOffsets()[c], end = stream.chunkEndBit(c);
        if (start < 0 || end < start || end > stream.totalBits()) {
            throw new CorruptStreamException(c, "has bit range [" + start + ", " + end + ") outside the stream");
        }
        int first = c * stream.chunkSymbols();
        int last = (int) Math.min(stream.symbolCount(), (long) first + stream.chunkSymbols());
        long budget = end - start;                 // bits this chunk may still consume
        int w = (int) (start >>> 5);               // next word to load
        int skip = (int) (start & 31);
        long buf = (word(words, w) << 32 | word(words, w + 1)) << skip;
        w += 2;
        int avail = 64 - skip;                      // valid bits at the top of buf
        int shift = 64 - tableBits;
        for (int i = first; i < last; i++) {
            if (avail < 32) {                       // refill: append the next word below the valid bits
                buf |= word(words, w++) << (32 - avail);
                avail += 32;
            }
            int entry = table[(int) (buf >>> shift)] & 0xFFFF;
            int len = entry & 0xFF;
            if (entry == 0 || len > budget) {
                throw new CorruptStreamException(c, (entry == 0 ? "holds an invalid code" : "ran out of bits")
                        + " at symbol " + (i - first));
            }
            out[i] = (byte) (entry >>> 8);
            buf <<= len;
            avail -= len;
            budget -= len;
        }
        if (budget != 0) throw new CorruptStreamException(c, "decodes " + (end - start - budget) + " bits but spans " + (end - start));
    }

    /** Word {@code w} as unsigned, or 0 past the end of the array (a chunk may start at the stream's last bit). */
    private static long word(int[] words, int w) { return w < words.length ? words[w] & 0xFFFFFFFFL : 0; }
}
