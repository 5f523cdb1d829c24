package io.entrollm.infer.kernels;

import io.entrollm.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * GGML blocks of 32 weights used as stored (llama.cpp's formulas, as {@link io.entrollm.tensor.TensorReader}):
 * Q8_0 {@code w = d q} (f16 d, 32 int8); Q4_0 {@code w = d (q - 8)} (f16 d, 16 bytes: weight j in the low
 * nibble of byte j, weight j + 16 in its high nibble); Q4_1 {@code w = d q + m} (f16 d and m, then the
 * nibbles as Q4_0). A row is a whole number of blocks. Per block the weights are scaled by d in registers
 * and accumulated; Q4_1's {@code m * sum(x)} uses the block sums of x computed once per call.
 */
public final class GgmlLinear extends RowBlocked {
    private static final int QK = 32;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment data;
    private final DType dtype;
    private final int blocksPerRow;

    public GgmlLinear(MemorySegment data, DType dtype, int rows, int cols, int firstRow) {
        super(rows, cols, firstRow);
        if (!takes(dtype)) throw new IllegalArgumentException("GgmlLinear takes Q8_0, Q4_0 or Q4_1, not " + dtype);
        if (cols % QK != 0) throw new IllegalArgumentException(dtype + " rows must be whole blocks of " + QK + ", not " + cols);
        this.data = data;
        this.dtype = dtype;
        this.blocksPerRow = cols / QK;
    }

    /** Whether this kernel computes {@code dtype} (other GGML block types go to {@link BlockRowLinear}). */
    public static boolean takes(DType dtype) { return dtype == DType.Q8_0 || dtype == DType.Q4_0 || dtype == DType.Q4_1; }

    @Override
    public long bytes() { return (long) rows * blocksPerRow * dtype.blockBytes(); }

    @Override
    Object prepare(float[] x, int tokens) {
        if (dtype == DType.Q8_0) return null;
        float[] sums = new float[tokens * blocksPerRow];
        for (int t = 0; t < tokens; t++) {
            for (int blk = 0; blk < blocksPerRow; blk++) {
                float s = 0;
                for (int j = 0; j < QK; j++) s += x[t * cols + blk * QK + j];
                sums[t * blocksPerRow + blk] = s;
            }
        }
        return sums;
    }

    /**
     * One method per format, each small: in one large method C2 ran out of inlining budget and left the
     * memory-segment bounds checks as calls (90% of a Q8_0 profile).
     */
    @Override
    void dotRow(int row, float[] x, Object prepared, int t0, int count, float[] dots) {
        java.util.Arrays.fill(dots, 0, count, 0f);
        long rowBase = (long) (firstRow + row) * blocksPerRow * dtype.blockBytes();
        if (!Lanes.VECTOR || QK % Lanes.L != 0) scalarRow(rowBase, x, t0, count, dots);
        else if (dtype == DType.Q8_0 && count == 1) q8RowOneToken(rowBase, x, t0, dots);
        else if (dtype == DType.Q8_0) q8Row(rowBase, x, t0, count, dots);
        else if (count == 1 && Lanes.L == QK / 2) q4RowOneToken(rowBase, x, (float[]) prepared, t0, dots);
        else q4Row(rowBase, x, (float[]) prepared, t0, count, dots);
    }

    private void scalarRow(long rowBase, float[] x, int t0, int count, float[] dots) {
        for (int blk = 0; blk < blocksPerRow; blk++) {
            long base = rowBase + (long) blk * dtype.blockBytes();
            float d = Float.float16ToFloat(data.get(I16, base));
            float m = dtype == DType.Q4_1 ? Float.float16ToFloat(data.get(I16, base + 2)) : 0f;
            long qs = base + (dtype == DType.Q4_1 ? 4 : 2);
            for (int j = 0; j < QK; j++) {
                float w = d * quant(qs, j) + m;
                for (int k = 0; k < count; k++) dots[k] += w * x[(t0 + k) * cols + blk * QK + j];
            }
        }
    }

    private void q8Row(long rowBase, float[] x, int t0, int count, float[] dots) {
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int blk = 0; blk < blocksPerRow; blk++) {
            long base = rowBase + (long) blk * 34;
            FloatVector dv = FloatVector.broadcast(Lanes.F, Float.float16ToFloat(data.get(I16, base)));
            int x0 = blk * QK;
            for (int j = 0; j < QK; j += Lanes.L) {
                FloatVector w = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B, data, base + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, Lanes.F, 0)).mul(dv);
                acc0 = w.fma(FloatVector.fromArray(Lanes.F, x, t0 * cols + x0 + j), acc0);
                if (count > 1) acc1 = w.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 1) * cols + x0 + j), acc1);
                if (count > 2) acc2 = w.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 2) * cols + x0 + j), acc2);
                if (count > 3) acc3 = w.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 3) * cols + x0 + j), acc3);
            }
        }
        addLanes(dots, count, acc0, acc1, acc2, acc3);
    }

    /**
     * Generation (one token): four accumulators over alternating blocks, so the FMAs of consecutive
     * blocks do not wait for each other (with one accumulator a row is one dependency chain and the
     * core waits on FMA latency, not on memory).
     */
    private void q8RowOneToken(long rowBase, float[] x, int t0, float[] dots) {
        FloatVector a0 = FloatVector.zero(Lanes.F), a1 = a0, a2 = a0, a3 = a0;
        int xBase = t0 * cols, blk = 0;
        for (; blk + 1 < blocksPerRow; blk += 2) {
            long b0 = rowBase + (long) blk * 34, b1 = b0 + 34;
            FloatVector d0 = FloatVector.broadcast(Lanes.F, Float.float16ToFloat(data.get(I16, b0)));
            FloatVector d1 = FloatVector.broadcast(Lanes.F, Float.float16ToFloat(data.get(I16, b1)));
            for (int j = 0; j < QK; j += 2 * Lanes.L) {
                a0 = q8(b0 + 2 + j).mul(d0).fma(FloatVector.fromArray(Lanes.F, x, xBase + blk * QK + j), a0);
                a2 = q8(b1 + 2 + j).mul(d1).fma(FloatVector.fromArray(Lanes.F, x, xBase + (blk + 1) * QK + j), a2);
                if (j + Lanes.L < QK) {
                    a1 = q8(b0 + 2 + j + Lanes.L).mul(d0).fma(FloatVector.fromArray(Lanes.F, x, xBase + blk * QK + j + Lanes.L), a1);
                    a3 = q8(b1 + 2 + j + Lanes.L).mul(d1).fma(FloatVector.fromArray(Lanes.F, x, xBase + (blk + 1) * QK + j + Lanes.L), a3);
                }
            }
        }
        for (; blk < blocksPerRow; blk++) {
            long b0 = rowBase + (long) blk * 34;
            FloatVector d0 = FloatVector.broadcast(Lanes.F, Float.float16ToFloat(data.get(I16, b0)));
            for (int j = 0; j < QK; j += Lanes.L) a0 = q8(b0 + 2 + j).mul(d0).fma(FloatVector.fromArray(Lanes.F, x, xBase + blk * QK + j), a0);
        }
        dots[0] += a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    /** L int8 weights at byte {@code at} as floats. */
    private FloatVector q8(long at) {
        return (FloatVector) ByteVector.fromMemorySegment(Lanes.B, data, at, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, Lanes.F, 0);
    }

    private void q4Row(long rowBase, float[] x, float[] blockSums, int t0, int count, float[] dots) {
        boolean q41 = dtype == DType.Q4_1;
        byte offset = q41 ? 0 : (byte) 8;
        int blockBytes = dtype.blockBytes();
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int blk = 0; blk < blocksPerRow; blk++) {
            long base = rowBase + (long) blk * blockBytes;
            FloatVector dv = FloatVector.broadcast(Lanes.F, Float.float16ToFloat(data.get(I16, base)));
            if (q41) {
                float m = Float.float16ToFloat(data.get(I16, base + 2));
                for (int k = 0; k < count; k++) dots[k] += m * blockSums[(t0 + k) * blocksPerRow + blk];
            }
            long qs = base + (q41 ? 4 : 2);
            int x0 = blk * QK;
            for (int j = 0; j < QK / 2; j += Lanes.L) {
                ByteVector q = ByteVector.fromMemorySegment(Lanes.B, data, qs + j, ByteOrder.LITTLE_ENDIAN);
                FloatVector lo = ((FloatVector) q.and((byte) 0x0F).sub(offset).convertShape(VectorOperators.B2F, Lanes.F, 0)).mul(dv);
                FloatVector hi = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(offset).convertShape(VectorOperators.B2F, Lanes.F, 0)).mul(dv);
                int a = x0 + j, b = x0 + j + QK / 2;
                acc0 = hi.fma(FloatVector.fromArray(Lanes.F, x, t0 * cols + b), lo.fma(FloatVector.fromArray(Lanes.F, x, t0 * cols + a), acc0));
                if (count > 1) acc1 = hi.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 1) * cols + b), lo.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 1) * cols + a), acc1));
                if (count > 2) acc2 = hi.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 2) * cols + b), lo.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 2) * cols + a), acc2));
                if (count > 3) acc3 = hi.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 3) * cols + b), lo.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 3) * cols + a), acc3));
            }
        }
        addLanes(dots, count, acc0, acc1, acc2, acc3);
    }

    /**
     * Generation (one token) on Q4_0/Q4_1 with 16 float lanes (one block's 16 bytes of nibbles = one load): per
     * block the raw nibbles times x (one byte-to-int widening, nibbles split on ints, no per-weight offset or
     * scale), then one FMA by the block's scale; the offset (-8 d, or Q4_1's m) multiplies the block's sum of x.
     * Two blocks interleaved, so consecutive blocks' FMAs do not wait for each other.
     */
    private void q4RowOneToken(long rowBase, float[] x, float[] blockSums, int t0, float[] dots) {
        int blockBytes = dtype.blockBytes(), qsAt = dtype == DType.Q4_1 ? 4 : 2, xBase = t0 * cols, sumBase = t0 * blocksPerRow;
        FloatVector a0 = FloatVector.zero(Lanes.F), a1 = a0;
        float scaledSums = 0;                       // sum over blocks of d x (block sum of x)
        int blk = 0;
        for (; blk + 1 < blocksPerRow; blk += 2) {
            long b0 = rowBase + (long) blk * blockBytes, b1 = b0 + blockBytes;
            float d0 = Float.float16ToFloat(data.get(I16, b0)), d1 = Float.float16ToFloat(data.get(I16, b1));
            scaledSums += d0 * blockSums[sumBase + blk] + d1 * blockSums[sumBase + blk + 1];
            a0 = nibbleBlock(b0 + qsAt, x, xBase + blk * QK, d0, a0);
            a1 = nibbleBlock(b1 + qsAt, x, xBase + (blk + 1) * QK, d1, a1);
        }
        if (blk < blocksPerRow) {
            long b0 = rowBase + (long) blk * blockBytes;
            float d0 = Float.float16ToFloat(data.get(I16, b0));
            scaledSums += d0 * blockSums[sumBase + blk];
            a0 = nibbleBlock(b0 + qsAt, x, xBase + blk * QK, d0, a0);
        }
        float offsets = dtype == DType.Q4_1 ? minsTimesSums(rowBase, blockSums, sumBase) : -8 * scaledSums;
        dots[0] += a0.add(a1).reduceLanes(VectorOperators.ADD) + offsets;
    }

    /** Q4_1: sum over the row's blocks of m x (block sum of x). */
    private float minsTimesSums(long rowBase, float[] blockSums, int sumBase) {
        float s = 0;
        int blockBytes = dtype.blockBytes();
        for (int blk = 0; blk < blocksPerRow; blk++) s += Float.float16ToFloat(data.get(I16, rowBase + (long) blk * blockBytes + 2)) * blockSums[sumBase + blk];
        return s;
    }

    /** {@code acc + d * sum_j q_j x[x0 + j]} over one block's 32 nibbles at byte {@code qs} (16 lanes: one load). */
    private FloatVector nibbleBlock(long qs, float[] x, int x0, float d, FloatVector acc) {
        IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B, data, qs, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Lanes.I, 0);
        FloatVector p = ((FloatVector) v.and(0x0F).convertShape(VectorOperators.I2F, Lanes.F, 0)).mul(FloatVector.fromArray(Lanes.F, x, x0));
        p = ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).convertShape(VectorOperators.I2F, Lanes.F, 0)).fma(FloatVector.fromArray(Lanes.F, x, x0 + QK / 2), p);
        return p.fma(FloatVector.broadcast(Lanes.F, d), acc);
    }

    /** Weight j of a block (before the scale), its symbol as the format defines it. */
    private int quant(long qs, int j) {
        if (dtype == DType.Q8_0) return data.get(ValueLayout.JAVA_BYTE, qs + j);
        int q = data.get(ValueLayout.JAVA_BYTE, qs + (j % (QK / 2))) & 0xFF;
        int nibble = j < QK / 2 ? q & 0x0F : q >>> 4;
        return dtype == DType.Q4_0 ? nibble - 8 : nibble;
    }

    /** By ggml's reference formulas, as every reader of GGML blocks dequantizes them. */
    @Override
    public void row(int r, float[] out, int off) { io.entrollm.tensor.GgmlDequant.row(dtype, data, firstRow + r, blocksPerRow, out, off); }
}
