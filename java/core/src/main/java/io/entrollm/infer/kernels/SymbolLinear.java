package io.entrollm.infer.kernels;

import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Quantizer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A matrix of EntroLLM integer symbols with a scale (and zero) per group: 8-bit storage (one symbol a
 * byte, for 5..8 bits) or 4-bit storage (two a byte, low nibble first, for 2..4 bits), computed from
 * without dequantizing the matrix.
 *
 * <p>Every scheme becomes {@code w = a[g] * q' + b[g]} with the symbol recentred, {@code q' = q - 128}
 * (bytes: a sign flip of the top bit, so a signed byte-to-float conversion gives it) or {@code q - 8}
 * (nibbles): asym {@code a = s, b = c s + z}; sym {@code a = s, b = (c - off) s}; unsigned
 * {@code a = sign s, b = sign c s}, where c is the recentring constant. A row's product with x is then
 * {@code sum over groups of (a[g] sum_i q'_i x_i + b[g] sum_i x_i)}: the sums of x per group are
 * computed once per call. Results differ from dequantize-then-multiply by float rounding only.
 *
 * <p>Groups: group g covers symbols [g * groupSize, (g + 1) * groupSize) of the flattened tensor. Per
 * tensor and per channel a row lies in one group; with groups the row length is a multiple of the
 * group size (the quantizer checks it). So a row splits into {@code cols / segment} segments of
 * {@code segment = min(groupSize, cols)} symbols with one group each.
 */
public final class SymbolLinear extends RowBlocked {
    private final MemorySegment symbols;
    private final boolean nibbles;
    private final long groupSize;
    private final int segment;
    private final float[] a, b;
    // b for symbols taken as stored, not recentred: b - center a (the vector nibble kernels)
    private final float[] bRaw;
    private final int center;
    // the reference form, for rows read whole (embedding lookups): bit-exact with Quantizer.dequantize
    private final AppliedScheme scheme;
    private final int bits, sign;
    private final float[] scales, zeros;

    /**
     * @param symbols  the whole tensor's symbols (bytes, or nibbles when {@code nibbles})
     * @param cols     the row length (even when nibbles)
     * @param firstRow the view's first row in the tensor
     */
    public SymbolLinear(MemorySegment symbols, boolean nibbles, int rows, int cols, int firstRow, int bits, AppliedScheme scheme, int sign,
                        long groupSize, float[] scales, float[] zeros) {
        super(rows, cols, firstRow);
        if (nibbles && (cols % 2 != 0 || bits > 4)) throw new IllegalArgumentException("nibble storage needs an even row length and at most 4 bits");
        this.symbols = symbols;
        this.nibbles = nibbles;
        this.groupSize = groupSize;
        this.segment = (int) Math.min(groupSize, cols);
        if (cols % segment != 0) throw new IllegalArgumentException("group size " + groupSize + " does not divide rows of " + cols);
        this.center = nibbles ? 8 : 128;
        this.scheme = scheme;
        this.bits = bits;
        this.sign = sign;
        this.scales = scales;
        this.zeros = zeros;
        this.a = new float[scales.length];
        this.b = new float[scales.length];
        this.bRaw = new float[scales.length];
        int offset = (1 << (bits - 1)) - 1;
        for (int g = 0; g < scales.length; g++) {
            float s = scales[g];
            switch (scheme) {
                case ASYM -> { a[g] = s; b[g] = center * s + zeros[g]; }
                case SYM -> { a[g] = s; b[g] = (center - offset) * s; }
                case UNSIGNED -> { a[g] = sign * s; b[g] = sign * center * s; }
            }
            bRaw[g] = b[g] - center * a[g];
        }
    }

    private int group(int row, int seg) { return (int) (((long) (firstRow + row) * cols + (long) seg * segment) / groupSize); }

    @Override
    public long bytes() { return (long) rows * (nibbles ? cols / 2 : cols) + 8L * (long) Math.ceil((double) rows * cols / groupSize); }

    /** Per call: sum of x over each segment of each token; for nibbles also x split into even and odd positions. */
    private record Prepared(float[] segmentSums, Halves halves) {}

    @Override
    Object prepare(float[] x, int tokens) {
        int segs = cols / segment;
        float[] sums = new float[tokens * segs];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < segs; j++) {
                float s = 0;
                for (int i = 0; i < segment; i++) s += x[t * cols + j * segment + i];
                sums[t * segs + j] = s;
            }
        }
        return new Prepared(sums, nibbles ? Halves.of(x, tokens, cols) : null);
    }

    @Override
    void dotRow(int row, float[] x, Object prepared, int t0, int count, float[] dots) {
        Prepared p = (Prepared) prepared;
        int segs = cols / segment;
        if (count == 1 && Lanes.VECTOR) {
            dots[0] = nibbles ? nibbleRowOneToken(row, p, t0) : byteRowOneToken(row, x, p, t0);
            return;
        }
        java.util.Arrays.fill(dots, 0, count, 0f);
        if (Lanes.VECTOR && nibbles) {
            nibbleRowTile(row, p, t0, count, dots);
            return;
        }
        if (Lanes.VECTOR) {
            byteRowTile(row, x, p, t0, count, dots);
            return;
        }
        for (int j = 0; j < segs; j++) {
            int g = group(row, j);
            float ag = a[g], bg = b[g];
            if (nibbles) nibbleSegment(row, j, p, t0, count, ag, dots);
            else byteSegment(row, j, x, t0, count, ag, dots);
            for (int k = 0; k < count; k++) dots[k] += bg * p.segmentSums[(t0 + k) * segs + j];
        }
    }

    /**
     * A tile of 2-4 tokens over a 4-bit-storage row: as {@link #nibbleRowOneToken}, each nibble vector
     * converted once for all the tile's tokens, each token's partial folded into its accumulator with one
     * FMA by the group's a per segment; one horizontal sum per token per row.
     */
    private void nibbleRowTile(int row, Prepared p, int t0, int count, float[] dots) {
        float[] even = p.halves.even(), odd = p.halves.odd();
        int half = cols / 2, pairs = segment / 2, segs = cols / segment, step = Lanes.L, g0 = group(row, 0);
        long rowBase = (long) (firstRow + row) * half;
        int e0 = t0 * half, e1 = e0 + half, e2 = e1 + half, e3 = e2 + half;   // token k's halves start at e_k
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int j = 0; j < segs; j++) {
            int g = g0 + j, at = j * pairs, k0 = 0;
            long base = rowBase + at;
            FloatVector q0 = FloatVector.zero(Lanes.F), q1 = q0, q2 = q0, q3 = q0;
            for (int bound = pairs - pairs % step; k0 < bound; k0 += step) {
                IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B, symbols, base + k0, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Lanes.I, 0);
                FloatVector lo = (FloatVector) v.and(0x0F).convertShape(VectorOperators.I2F, Lanes.F, 0);
                FloatVector hi = (FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).convertShape(VectorOperators.I2F, Lanes.F, 0);
                int i = at + k0;
                q0 = hi.fma(FloatVector.fromArray(Lanes.F, odd, e0 + i), lo.fma(FloatVector.fromArray(Lanes.F, even, e0 + i), q0));
                if (count > 1) q1 = hi.fma(FloatVector.fromArray(Lanes.F, odd, e1 + i), lo.fma(FloatVector.fromArray(Lanes.F, even, e1 + i), q1));
                if (count > 2) q2 = hi.fma(FloatVector.fromArray(Lanes.F, odd, e2 + i), lo.fma(FloatVector.fromArray(Lanes.F, even, e2 + i), q2));
                if (count > 3) q3 = hi.fma(FloatVector.fromArray(Lanes.F, odd, e3 + i), lo.fma(FloatVector.fromArray(Lanes.F, even, e3 + i), q3));
            }
            for (; k0 < pairs; k0++) {
                int q = symbols.get(ValueLayout.JAVA_BYTE, base + k0) & 0xFF, i = at + k0;
                for (int k = 0; k < count; k++) dots[k] += a[g] * ((q & 0x0F) * even[e0 + k * half + i] + (q >>> 4) * odd[e0 + k * half + i]);
            }
            FloatVector av = FloatVector.broadcast(Lanes.F, a[g]);
            acc0 = q0.fma(av, acc0);
            if (count > 1) acc1 = q1.fma(av, acc1);
            if (count > 2) acc2 = q2.fma(av, acc2);
            if (count > 3) acc3 = q3.fma(av, acc3);
            for (int k = 0; k < count; k++) dots[k] += bRaw[g] * p.segmentSums[(t0 + k) * segs + j];
        }
        addLanes(dots, count, acc0, acc1, acc2, acc3);
    }

    /** The same over 8-bit storage, q - 128 from a flip of the top bit. */
    private void byteRowTile(int row, float[] x, Prepared p, int t0, int count, float[] dots) {
        int segs = cols / segment, step = Lanes.L, g0 = group(row, 0);
        long rowBase = (long) (firstRow + row) * cols;
        int x0 = t0 * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int j = 0; j < segs; j++) {
            int g = g0 + j, at = j * segment, i = 0;
            long base = rowBase + at;
            FloatVector q0 = FloatVector.zero(Lanes.F), q1 = q0, q2 = q0, q3 = q0;
            for (int bound = segment - segment % step; i < bound; i += step) {
                FloatVector w = signedBytes(symbols, base + i);
                q0 = w.fma(FloatVector.fromArray(Lanes.F, x, x0 + at + i), q0);
                if (count > 1) q1 = w.fma(FloatVector.fromArray(Lanes.F, x, x1 + at + i), q1);
                if (count > 2) q2 = w.fma(FloatVector.fromArray(Lanes.F, x, x2 + at + i), q2);
                if (count > 3) q3 = w.fma(FloatVector.fromArray(Lanes.F, x, x3 + at + i), q3);
            }
            for (; i < segment; i++) {
                float w = a[g] * ((symbols.get(ValueLayout.JAVA_BYTE, base + i) & 0xFF) - 128);
                for (int k = 0; k < count; k++) dots[k] += w * x[x0 + k * cols + at + i];
            }
            FloatVector av = FloatVector.broadcast(Lanes.F, a[g]);
            acc0 = q0.fma(av, acc0);
            if (count > 1) acc1 = q1.fma(av, acc1);
            if (count > 2) acc2 = q2.fma(av, acc2);
            if (count > 3) acc3 = q3.fma(av, acc3);
            for (int k = 0; k < count; k++) dots[k] += b[g] * p.segmentSums[(t0 + k) * segs + j];
        }
        addLanes(dots, count, acc0, acc1, acc2, acc3);
    }

    /**
     * dots[k] += ag * sum_i q'_i x[t0+k][i] over segment j of an 8-bit-storage row: the scalar form, for machines
     * whose float vectors have fewer than 8 lanes (the vector kernels are the row methods above and below).
     */
    private void byteSegment(int row, int j, float[] x, int t0, int count, float ag, float[] dots) {
        long base = (long) (firstRow + row) * cols + (long) j * segment;
        int x0 = j * segment;
        for (int i = 0; i < segment; i++) {
            float w = ag * ((symbols.get(ValueLayout.JAVA_BYTE, base + i) & 0xFF) - 128);
            for (int k = 0; k < count; k++) dots[k] += w * x[(t0 + k) * cols + x0 + i];
        }
    }

    /** The same for 4-bit storage: byte k of the segment holds symbols 2k (low nibble) and 2k+1 (high). */
    private void nibbleSegment(int row, int j, Prepared p, int t0, int count, float ag, float[] dots) {
        float[] even = p.halves.even(), odd = p.halves.odd();
        int half = cols / 2, pairs = segment / 2;
        long base = ((long) (firstRow + row) * cols + (long) j * segment) / 2;
        int x0 = j * pairs;
        for (int k0 = 0; k0 < pairs; k0++) {
            int q = symbols.get(ValueLayout.JAVA_BYTE, base + k0) & 0xFF;
            float lo = ag * ((q & 0x0F) - 8), hi = ag * ((q >>> 4) - 8);
            for (int k = 0; k < count; k++) dots[k] += lo * even[(t0 + k) * half + x0 + k0] + hi * odd[(t0 + k) * half + x0 + k0];
        }
    }

    /**
     * Generation (one token), 4-bit storage: per segment the raw nibbles (0..15, widened to ints once, split
     * on ints) times the even/odd halves of x in two vector partials, then one FMA by the group's a into the
     * row's accumulator; the recentring and b go with the segment's sum of x ({@code bRaw}). No
     * horizontal sum per segment (with group:128 that sum was most of the time).
     */
    private float nibbleRowOneToken(int row, Prepared p, int t0) {
        float[] even = p.halves.even(), odd = p.halves.odd();
        int half = cols / 2, pairs = segment / 2, segs = cols / segment, step = Lanes.L, g0 = group(row, 0);
        long rowBase = (long) (firstRow + row) * half;
        FloatVector acc = FloatVector.zero(Lanes.F);
        float scalar = 0;                           // tails (pairs not a multiple of L) and the b terms
        for (int j = 0; j < segs; j++) {
            int g = g0 + j;                         // consecutive segments are consecutive groups (see the class comment)
            long base = rowBase + (long) j * pairs;
            int x0 = t0 * half + j * pairs, k0 = 0;
            FloatVector p0 = FloatVector.zero(Lanes.F), p1 = p0, p2 = p0, p3 = p0;
            for (; k0 + 4 * step <= pairs; k0 += 4 * step) {
                p0 = nibblePairs(base + k0, even, odd, x0 + k0, p0);
                p1 = nibblePairs(base + k0 + step, even, odd, x0 + k0 + step, p1);
                p2 = nibblePairs(base + k0 + 2 * step, even, odd, x0 + k0 + 2 * step, p2);
                p3 = nibblePairs(base + k0 + 3 * step, even, odd, x0 + k0 + 3 * step, p3);
            }
            for (; k0 + step <= pairs; k0 += step) p0 = nibblePairs(base + k0, even, odd, x0 + k0, p0);
            p0 = p0.add(p2);
            p1 = p1.add(p3);
            float tail = 0;
            for (; k0 < pairs; k0++) {
                int q = symbols.get(ValueLayout.JAVA_BYTE, base + k0) & 0xFF;
                tail += (q & 0x0F) * even[x0 + k0] + (q >>> 4) * odd[x0 + k0];
            }
            acc = p0.add(p1).fma(FloatVector.broadcast(Lanes.F, a[g]), acc);
            scalar += a[g] * tail + bRaw[g] * p.segmentSums[t0 * segs + j];
        }
        return acc.reduceLanes(VectorOperators.ADD) + scalar;
    }

    /** {@code sum + lo * even[at..] + hi * odd[at..]} for the L bytes of nibbles at {@code symbolAt}. */
    private FloatVector nibblePairs(long symbolAt, float[] even, float[] odd, int at, FloatVector sum) {
        IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B, symbols, symbolAt, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Lanes.I, 0);
        sum = ((FloatVector) v.and(0x0F).convertShape(VectorOperators.I2F, Lanes.F, 0)).fma(FloatVector.fromArray(Lanes.F, even, at), sum);
        return ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).convertShape(VectorOperators.I2F, Lanes.F, 0)).fma(FloatVector.fromArray(Lanes.F, odd, at), sum);
    }

    /** Generation (one token), 8-bit storage: as {@link #nibbleRowOneToken}, with q - 128 from a flip of the top bit. */
    private float byteRowOneToken(int row, float[] x, Prepared p, int t0) {
        int segs = cols / segment, step = Lanes.L, g0 = group(row, 0);
        long rowBase = (long) (firstRow + row) * cols;
        FloatVector acc = FloatVector.zero(Lanes.F);
        float scalar = 0;
        for (int j = 0; j < segs; j++) {
            int g = g0 + j;
            long base = rowBase + (long) j * segment;
            int x0 = t0 * cols + j * segment, i = 0;
            FloatVector p0 = FloatVector.zero(Lanes.F), p1 = p0, p2 = p0, p3 = p0;
            for (; i + 4 * step <= segment; i += 4 * step) {
                p0 = signedBytes(symbols, base + i).fma(FloatVector.fromArray(Lanes.F, x, x0 + i), p0);
                p1 = signedBytes(symbols, base + i + step).fma(FloatVector.fromArray(Lanes.F, x, x0 + i + step), p1);
                p2 = signedBytes(symbols, base + i + 2 * step).fma(FloatVector.fromArray(Lanes.F, x, x0 + i + 2 * step), p2);
                p3 = signedBytes(symbols, base + i + 3 * step).fma(FloatVector.fromArray(Lanes.F, x, x0 + i + 3 * step), p3);
            }
            for (; i + step <= segment; i += step) p0 = signedBytes(symbols, base + i).fma(FloatVector.fromArray(Lanes.F, x, x0 + i), p0);
            p0 = p0.add(p1).add(p2.add(p3));
            float tail = 0;
            for (; i < segment; i++) tail += ((symbols.get(ValueLayout.JAVA_BYTE, base + i) & 0xFF) - 128) * x[x0 + i];
            acc = p0.fma(FloatVector.broadcast(Lanes.F, a[g]), acc);
            scalar += a[g] * tail + b[g] * p.segmentSums[t0 * segs + j];
        }
        return acc.reduceLanes(VectorOperators.ADD) + scalar;
    }

    /**
     * L stored bytes at {@code at} recentred to q - 128 (a flip of the top bit), as floats. Static, with the
     * segment passed in: under C2's 35-byte limit for inlining at any call site (as an instance method it was
     * 36 bytes and stayed a call per load).
     */
    private static FloatVector signedBytes(MemorySegment symbols, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(Lanes.B, symbols, at, ByteOrder.LITTLE_ENDIAN)
                .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, Lanes.F, 0);
    }

    @Override
    public void row(int r, float[] out, int off) {
        int segs = cols / segment;
        for (int j = 0; j < segs; j++) {
            int g = group(r, j);
            for (int i = 0; i < segment; i++) {
                long at = (long) (firstRow + r) * cols + (long) j * segment + i;
                int q = nibbles ? (symbols.get(ValueLayout.JAVA_BYTE, at >>> 1) & 0xFF) >>> ((at & 1) * 4) & 0x0F
                        : symbols.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
                out[off + j * segment + i] = Quantizer.dequantize(scheme, bits, q, scales[g], scheme == AppliedScheme.ASYM ? zeros[g] : 0f, sign);
            }
        }
    }
}
