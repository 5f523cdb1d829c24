package io.entrollm.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Decodes a {@link HuffmanStream} on all cores. An invalid code or a chunk that does not end exactly
 * where the next begins is reported as corruption, never decoded into wrong symbols silently.
 *
 * <p>How it is fast (the techniques of Huff0's {@code HUF_decompress4X}, on our unchanged format):
 * one task decodes a group of {@value #GROUP} chunks in lockstep, so the out-of-order core overlaps
 * independent lookup-shift-lookup chains; the group's words are first copied as big-endian bytes, so
 * that one unaligned 8-byte load is a 64-bit window that serves four lookups (no refill branch);
 * where codes are short a multi-symbol table decodes up to six symbols per lookup with one store
 * ({@link DecodeTables}); otherwise four lookups' symbols leave in one 4-byte store. Validation moves
 * to chunk ends: a complete prefix code has no invalid codes, so each chunk need only consume exactly
 * its bits (a corrupt chunk cannot). Reads past the stream come from the copy's zero padding. The
 * 1-symbol codebook, the one incomplete code, and groups of chunks whose words would make a copy of
 * more than 32 MiB take {@link #decodeChunkChecked}, the reference decoder, which checks every symbol.
 */
public final class HuffmanDecoder {
    /** Chunks one task decodes: eight in lockstep with the 1-symbol table, two sets of four with the multi-symbol table. */
    static final int GROUP = 8;
    /** Several decoded symbols written by one store (the JIT makes these plain unaligned stores). */
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    /** A 64-bit window: eight bytes of the big-endian copy of the stream. */
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

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

    /** One thread, with the multi-symbol table forced on or off: tests reach every decoder path. */
    static void decodeSingleThread(HuffmanStream stream, byte[] out, boolean multi) {
        if (prepare(stream, out) == null) return;
        DecodeTables tables = DecodeTables.of(stream.codebook(), multi);
        for (int g = 0; g < groups(stream); g++) decodeGroup(stream, tables, g, out);
    }

    /** The reference decoder on the calling thread: chunk by chunk, every symbol checked (the baseline of benchmarks and tests). */
    public static void decodeReferenceSingleThread(HuffmanStream stream, byte[] out) {
        if (prepare(stream, out) == null) return;
        int tableBits = Math.max(1, stream.codebook().maxLength());
        short[] table = stream.codebook().decodeTable(tableBits);
        for (int c = 0; c < stream.chunkCount(); c++) decodeChunkChecked(stream, c, table, tableBits, out);
    }

    private static int groups(HuffmanStream s) { return (s.chunkCount() + GROUP - 1) / GROUP; }

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

    /**
     * The chunks of one group: their words copied as big-endian bytes (so that one 8-byte load is a
     * 64-bit window), then the lockstep decoders over full chunks and single lanes for the rest; the
     * checked decoder where the code is incomplete or the copy would be too large.
     */
    private static void decodeGroup(HuffmanStream s, DecodeTables t, int group, byte[] out) {
        int first = group * GROUP, last = Math.min(s.chunkCount(), first + GROUP), n = s.chunkSymbols();
        long[] offsets = s.chunkBitOffsets();
        int fromWord = (int) (offsets[first] >>> 5), toWord = (int) (s.chunkEndBit(last - 1) >>> 5) + 2;
        // a lane starts at most at the group's last bit and reads at most tableBits a symbol, valid or corrupt
        long copyBytes = 4L * (toWord - fromWord) + ((long) n * t.tableBits() + 7) / 8 + 16;
        if (!t.complete() || copyBytes > MAX_COPY_BYTES) {
            for (int c = first; c < last; c++) decodeChunkChecked(s, c, t.reference(), t.tableBits(), out);
            return;
        }
        byte[] bytes = bigEndianBytes(s.words(), fromWord, toWord, (int) copyBytes);
        long base = 32L * fromWord;
        long[] p = new long[GROUP];
        int[] o = new int[GROUP];
        int c = first;
        if (t.multi() != null) {
            for (; c + 4 <= last && full(s, c, 4); c += 4) {
                for (int l = 0; l < 4; l++) {
                    p[l] = offsets[c + l] - base;
                    o[l] = (c + l) * n;
                }
                decodeFourMulti(bytes, t.multi(), 64 - t.tableBits(), p, o, n, out);
                finishFourMulti(bytes, t, p, o, (c + 1) * n, n, out);
                for (int l = 0; l < 4; l++) finish(s, c + l, base + decodeLane(bytes, t, p[l], o[l], (c + l + 1) * n - o[l], out));
            }
        } else if (c + GROUP <= last && full(s, c, GROUP)) {
            for (int l = 0; l < GROUP; l++) p[l] = offsets[c + l] - base;
            decodeEightSingles(bytes, t.single(), 64 - t.tableBits(), p, c * n, n, out);
            int done = n & ~3;
            for (int l = 0; l < GROUP; l++) finish(s, c + l, base + decodeLane(bytes, t, p[l], (c + l) * n + done, n - done, out));
            c += GROUP;
        }
        for (; c < last; c++) finish(s, c, base + decodeLane(bytes, t, offsets[c] - base, c * n, chunkSymbols(s, c), out));
    }

    /** Whether chunks {@code [c, c + lanes)} all hold {@code chunkSymbols} symbols (only the last chunk may hold fewer). */
    private static boolean full(HuffmanStream s, int c, int lanes) {
        return chunkSymbols(s, c + lanes - 1) == s.chunkSymbols();
    }

    private static int chunkSymbols(HuffmanStream s, int c) {
        long first = (long) c * s.chunkSymbols();
        return (int) Math.min(s.chunkSymbols(), s.symbolCount() - first);
    }

    private static void finish(HuffmanStream s, int c, long endBit) {
        long start = s.chunkBitOffsets()[c], end = s.chunkEndBit(c);
        if (endBit != end) throw new CorruptStreamException(c, "decodes " + (endBit - start) + " bits but spans " + (end - start));
    }

    /** Groups whose copy would be larger than this (32 MiB; 4096-symbol chunks make under 64 KiB) take the checked decoder. */
    private static final long MAX_COPY_BYTES = 1L << 25;
    /** Per-thread copy buffers, kept up to this size (a group of 4096-symbol chunks needs under 64 KiB). */
    private static final int KEPT_BUFFER_BYTES = 1 << 20;
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * Words {@code [from, to)} as big-endian bytes, zeros after them up to {@code size} bytes, in a
     * per-thread buffer: bit {@code b} of the copy is bit {@code 32 * from + b} of the stream. The
     * zeros are where a corrupt chunk's reads run to (it then ends at the wrong bit); words past the
     * array read as zeros, as in the checked decoder.
     */
    private static byte[] bigEndianBytes(int[] words, int from, int to, int size) {
        byte[] buffer = BUFFERS.get();
        if (buffer.length < size) {
            buffer = new byte[Math.max(size, Math.min(KEPT_BUFFER_BYTES, 2 * buffer.length))];
            if (buffer.length <= KEPT_BUFFER_BYTES) BUFFERS.set(buffer);
        }
        int count = Math.max(0, Math.min(to, words.length) - from);
        for (int i = 0; i < count; i++) INT_BE.set(buffer, 4 * i, words[from + i]);   // C2 vectorizes this loop (~40 GB/s)
        Arrays.fill(buffer, 4 * count, size, (byte) 0);
        return buffer;
    }

    /** The 64 bits of the stream starting at bit {@code pos} of {@code bytes}, left-aligned (at least 57 meaningful). */
    private static long window(byte[] bytes, long pos) {
        return (long) LONG_BE.get(bytes, (int) (pos >>> 3)) << (pos & 7);
    }

    /** The symbols of four single-table entries as one little-endian int (each entry holds its symbol in bytes 1-3). */
    private static int fourSymbols(int a, int b, int c, int d) {
        return (a >>> 8 & 0xFF) | (b & 0xFF00) | (c & 0xFF0000) | (d & 0xFF000000);
    }

    /**
     * Eight full chunks in lockstep, one symbol per lookup, four lookups per 64-bit window (codes are at
     * most 16 bits and a window holds at least 57). {@code p} holds the lanes' bit positions in {@code
     * bytes}; it is updated to where each lane stopped (at the chunk's last few symbols).
     */
    private static void decodeEightSingles(byte[] bytes, int[] table, int shift, long[] p, int at, int n, byte[] out) {
        long p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3], p4 = p[4], p5 = p[5], p6 = p[6], p7 = p[7];
        int o0 = at + 0 * n, o1 = at + 1 * n, o2 = at + 2 * n, o3 = at + 3 * n, o4 = at + 4 * n, o5 = at + 5 * n, o6 = at + 6 * n, o7 = at + 7 * n, k = 0;
        for (; k < n - 3; k += 4) {
            long w0 = window(bytes, p0);
            long w1 = window(bytes, p1);
            long w2 = window(bytes, p2);
            long w3 = window(bytes, p3);
            long w4 = window(bytes, p4);
            long w5 = window(bytes, p5);
            long w6 = window(bytes, p6);
            long w7 = window(bytes, p7);
            int a0 = table[(int) (w0 >>> shift)], a1 = table[(int) (w1 >>> shift)];
            int a2 = table[(int) (w2 >>> shift)], a3 = table[(int) (w3 >>> shift)];
            int a4 = table[(int) (w4 >>> shift)], a5 = table[(int) (w5 >>> shift)];
            int a6 = table[(int) (w6 >>> shift)], a7 = table[(int) (w7 >>> shift)];
            w0 <<= a0; w1 <<= a1; w2 <<= a2; w3 <<= a3; w4 <<= a4; w5 <<= a5; w6 <<= a6; w7 <<= a7;   // the entry's low 6 bits are the code length
            int b0 = table[(int) (w0 >>> shift)], b1 = table[(int) (w1 >>> shift)];
            int b2 = table[(int) (w2 >>> shift)], b3 = table[(int) (w3 >>> shift)];
            int b4 = table[(int) (w4 >>> shift)], b5 = table[(int) (w5 >>> shift)];
            int b6 = table[(int) (w6 >>> shift)], b7 = table[(int) (w7 >>> shift)];
            w0 <<= b0; w1 <<= b1; w2 <<= b2; w3 <<= b3; w4 <<= b4; w5 <<= b5; w6 <<= b6; w7 <<= b7;   // the entry's low 6 bits are the code length
            int c0 = table[(int) (w0 >>> shift)], c1 = table[(int) (w1 >>> shift)];
            int c2 = table[(int) (w2 >>> shift)], c3 = table[(int) (w3 >>> shift)];
            int c4 = table[(int) (w4 >>> shift)], c5 = table[(int) (w5 >>> shift)];
            int c6 = table[(int) (w6 >>> shift)], c7 = table[(int) (w7 >>> shift)];
            w0 <<= c0; w1 <<= c1; w2 <<= c2; w3 <<= c3; w4 <<= c4; w5 <<= c5; w6 <<= c6; w7 <<= c7;   // the entry's low 6 bits are the code length
            int d0 = table[(int) (w0 >>> shift)], d1 = table[(int) (w1 >>> shift)];
            int d2 = table[(int) (w2 >>> shift)], d3 = table[(int) (w3 >>> shift)];
            int d4 = table[(int) (w4 >>> shift)], d5 = table[(int) (w5 >>> shift)];
            int d6 = table[(int) (w6 >>> shift)], d7 = table[(int) (w7 >>> shift)];
            INT_LE.set(out, o0 + k, fourSymbols(a0, b0, c0, d0));
            INT_LE.set(out, o1 + k, fourSymbols(a1, b1, c1, d1));
            INT_LE.set(out, o2 + k, fourSymbols(a2, b2, c2, d2));
            INT_LE.set(out, o3 + k, fourSymbols(a3, b3, c3, d3));
            INT_LE.set(out, o4 + k, fourSymbols(a4, b4, c4, d4));
            INT_LE.set(out, o5 + k, fourSymbols(a5, b5, c5, d5));
            INT_LE.set(out, o6 + k, fourSymbols(a6, b6, c6, d6));
            INT_LE.set(out, o7 + k, fourSymbols(a7, b7, c7, d7));
            p0 += (a0 + b0 + c0 + d0) & 0xFF;
            p1 += (a1 + b1 + c1 + d1) & 0xFF;
            p2 += (a2 + b2 + c2 + d2) & 0xFF;
            p3 += (a3 + b3 + c3 + d3) & 0xFF;
            p4 += (a4 + b4 + c4 + d4) & 0xFF;
            p5 += (a5 + b5 + c5 + d5) & 0xFF;
            p6 += (a6 + b6 + c6 + d6) & 0xFF;
            p7 += (a7 + b7 + c7 + d7) & 0xFF;
        }
        p[0] = p0; p[1] = p1; p[2] = p2; p[3] = p3; p[4] = p4; p[5] = p5; p[6] = p6; p[7] = p7;
    }

    /**
     * Four full chunks in lockstep with the multi-symbol table: four lookups per 64-bit window, each
     * writing up to {@value DecodeTables#MULTI_CAP} symbols with one 8-byte store (bytes past the count
     * are overwritten by the next store). Runs while every lane has more than 32 symbols left, so no
     * store passes its chunk; {@code p} and {@code o} are updated to where each lane stopped.
     */
    private static void decodeFourMulti(byte[] bytes, long[] multi, int shift, long[] p, int[] o, int n, byte[] out) {
        long p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
        int o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3];
        int e0 = o0 + n - 32, e1 = o1 + n - 32, e2 = o2 + n - 32, e3 = o3 + n - 32;
        while (o0 < e0 && o1 < e1 && o2 < e2 && o3 < e3) {
            long w0 = window(bytes, p0), w1 = window(bytes, p1), w2 = window(bytes, p2), w3 = window(bytes, p3);
            long x0 = multi[(int) (w0 >>> shift)], x1 = multi[(int) (w1 >>> shift)], x2 = multi[(int) (w2 >>> shift)], x3 = multi[(int) (w3 >>> shift)];
            LONG_LE.set(out, o0, x0 >>> 8);
            o0 += (int) (x0 >>> 56);
            LONG_LE.set(out, o1, x1 >>> 8);
            o1 += (int) (x1 >>> 56);
            LONG_LE.set(out, o2, x2 >>> 8);
            o2 += (int) (x2 >>> 56);
            LONG_LE.set(out, o3, x3 >>> 8);
            o3 += (int) (x3 >>> 56);
            w0 <<= x0; w1 <<= x1; w2 <<= x2; w3 <<= x3;
            long y0 = multi[(int) (w0 >>> shift)], y1 = multi[(int) (w1 >>> shift)], y2 = multi[(int) (w2 >>> shift)], y3 = multi[(int) (w3 >>> shift)];
            LONG_LE.set(out, o0, y0 >>> 8);
            o0 += (int) (y0 >>> 56);
            LONG_LE.set(out, o1, y1 >>> 8);
            o1 += (int) (y1 >>> 56);
            LONG_LE.set(out, o2, y2 >>> 8);
            o2 += (int) (y2 >>> 56);
            LONG_LE.set(out, o3, y3 >>> 8);
            o3 += (int) (y3 >>> 56);
            w0 <<= y0; w1 <<= y1; w2 <<= y2; w3 <<= y3;
            long z0 = multi[(int) (w0 >>> shift)], z1 = multi[(int) (w1 >>> shift)], z2 = multi[(int) (w2 >>> shift)], z3 = multi[(int) (w3 >>> shift)];
            LONG_LE.set(out, o0, z0 >>> 8);
            o0 += (int) (z0 >>> 56);
            LONG_LE.set(out, o1, z1 >>> 8);
            o1 += (int) (z1 >>> 56);
            LONG_LE.set(out, o2, z2 >>> 8);
            o2 += (int) (z2 >>> 56);
            LONG_LE.set(out, o3, z3 >>> 8);
            o3 += (int) (z3 >>> 56);
            w0 <<= z0; w1 <<= z1; w2 <<= z2; w3 <<= z3;
            long u0 = multi[(int) (w0 >>> shift)], u1 = multi[(int) (w1 >>> shift)], u2 = multi[(int) (w2 >>> shift)], u3 = multi[(int) (w3 >>> shift)];
            LONG_LE.set(out, o0, u0 >>> 8);
            o0 += (int) (u0 >>> 56);
            LONG_LE.set(out, o1, u1 >>> 8);
            o1 += (int) (u1 >>> 56);
            LONG_LE.set(out, o2, u2 >>> 8);
            o2 += (int) (u2 >>> 56);
            LONG_LE.set(out, o3, u3 >>> 8);
            o3 += (int) (u3 >>> 56);
            p0 += (x0 + y0 + z0 + u0) & 0xFF;
            p1 += (x1 + y1 + z1 + u1) & 0xFF;
            p2 += (x2 + y2 + z2 + u2) & 0xFF;
            p3 += (x3 + y3 + z3 + u3) & 0xFF;
        }
        p[0] = p0; p[1] = p1; p[2] = p2; p[3] = p3;
        o[0] = o0; o[1] = o1; o[2] = o2; o[3] = o3;
    }

    /**
     * The four lanes' tails after {@link #decodeFourMulti}, one lookup per lane in turn while the lane
     * has at least 8 output bytes left (so the chains still overlap); lane {@code l} ends at {@code
     * end0 + l * n}. The last few symbols are left to {@link #decodeLane}.
     */
    private static void finishFourMulti(byte[] bytes, DecodeTables t, long[] p, int[] o, int end0, int n, byte[] out) {
        long[] multi = t.multi();
        int shift = 64 - t.tableBits();
        boolean more = true;
        while (more) {
            more = false;
            for (int l = 0; l < 4; l++) {
                if (end0 + l * n - o[l] < 8) continue;
                long x = multi[(int) (window(bytes, p[l]) >>> shift)];
                LONG_LE.set(out, o[l], x >>> 8);
                o[l] += (int) (x >>> 56);
                p[l] += x & 0xFF;
                more = true;
            }
        }
    }

    /**
     * One lane alone: {@code count} symbols from bit {@code pos} of {@code bytes} into {@code out[at..]},
     * several a lookup while at least 8 output bytes remain. Returns the end bit. The caller ensured a
     * complete code and reads inside the copy.
     */
    private static long decodeLane(byte[] bytes, DecodeTables t, long pos, int at, int count, byte[] out) {
        int shift = 64 - t.tableBits(), o = at, end = at + count;
        long[] multi = t.multi();
        if (multi != null) {
            while (end - o >= 8) {
                long x = multi[(int) (window(bytes, pos) >>> shift)];
                LONG_LE.set(out, o, x >>> 8);
                o += (int) (x >>> 56);
                pos += x & 0xFF;
            }
        }
        int[] single = t.single();
        for (; o < end; o++) {
            int e = single[(int) (window(bytes, pos) >>> shift)];
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
