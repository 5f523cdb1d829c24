package io.entrollm.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The inner loops of {@link HuffmanDecoder}: chunks decoded in lockstep from a group's big-endian byte copy
 * ({@code bytes}, bit positions relative to it), by the tables of {@link DecodeTables}. Nothing here checks
 * a symbol: the decoder checks each chunk's end bit afterwards, and its copy has room for any lane's reads.
 * The lanes are written out by hand (eight, or four, independent chains the out-of-order core overlaps);
 * C2 keeps them in registers only in this shape.
 */
final class DecodeLanes {
    /** Several decoded symbols written by one store (the JIT makes these plain unaligned stores). */
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** A 64-bit window: eight bytes of the big-endian copy of the stream. */
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private DecodeLanes() {}

    /** The 64 bits of the stream starting at bit {@code pos} of {@code bytes}, left-aligned (at least 57 meaningful). */
    private static long window(byte[] bytes, long pos) {
        return (long) LONG_BE.get(bytes, (int) (pos >>> 3)) << (pos & 7);
    }

    /** The symbols of four single-table entries as one little-endian int (each entry holds its symbol in bytes 1-3). */
    private static int fourSymbols(int a, int b, int c, int d) {
        return (a >>> 8 & 0xFF) | (b & 0xFF00) | (c & 0xFF0000) | (d & 0xFF000000);
    }

    /**
     * Eight full chunks in lockstep, one symbol per lookup, four lookups per 64-bit window (codes of at
     * most {@value DecodeTables#LOCKSTEP_MAX_TABLE_BITS} bits: four fit in the 57 a window surely holds). {@code p} holds the lanes' bit positions in {@code
     * bytes}; it is updated to where each lane stopped (at the chunk's last few symbols).
     */
    static void eightSingles(byte[] bytes, int[] table, int shift, long[] p, int at, int n, byte[] out) {
        long p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3], p4 = p[4], p5 = p[5], p6 = p[6], p7 = p[7];
        int o0 = at, o1 = at + n, o2 = at + 2 * n, o3 = at + 3 * n, o4 = at + 4 * n, o5 = at + 5 * n, o6 = at + 6 * n, o7 = at + 7 * n, k = 0;
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
    static void fourMulti(byte[] bytes, long[] multi, int shift, long[] p, int[] o, int n, byte[] out) {
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
     * The four lanes' tails after {@link #fourMulti}, one lookup per lane in turn while the lane
     * has at least 8 output bytes left (so the chains still overlap); lane {@code l} ends at {@code
     * end0 + l * n}. The last few symbols are left to {@link #lane}.
     */
    static void finishFourMulti(byte[] bytes, DecodeTables t, long[] p, int[] o, int end0, int n, byte[] out) {
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
    static long lane(byte[] bytes, DecodeTables t, long pos, int at, int count, byte[] out) {
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
}
