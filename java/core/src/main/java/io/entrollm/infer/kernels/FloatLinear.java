package io.entrollm.infer.kernels;

import io.entrollm.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Unquantized weights as stored, little-endian: float32 read as it lies; bf16 widened in registers
 * (its bits are the top half of a float32): a little-endian int holds elements 2k (low half) and 2k+1
 * (high half), so {@code int << 16} and {@code int & 0xFFFF0000} are the two floats, multiplied
 * against x split into even and odd positions (no lane-count-changing conversion, which the JIT does
 * not intrinsify on every machine); f16 converted a row at a time into a float32 buffer (the Vector
 * API has no half-precision conversion), then used for every token of the tile.
 */
public final class FloatLinear extends RowBlocked {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment data;
    private final DType dtype;
    private final ThreadLocal<float[]> rowBuffer;

    public FloatLinear(MemorySegment data, DType dtype, int rows, int cols, int firstRow) {
        super(rows, cols, firstRow);
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) throw new IllegalArgumentException("FloatLinear takes f32, f16 or bf16, not " + dtype);
        this.data = data;
        this.dtype = dtype;
        this.rowBuffer = ThreadLocal.withInitial(() -> new float[cols]);
    }

    @Override
    public long bytes() { return (long) rows * cols * (dtype == DType.F32 ? 4 : 2); }

    /** For bf16 with an even row length: x split into even and odd positions, per token. */
    @Override
    Object prepare(float[] x, int tokens) {
        return dtype == DType.BF16 && cols % 2 == 0 && Lanes.VECTOR ? Halves.of(x, tokens, cols) : null;
    }

    @Override
    void dotRow(int row, float[] x, Object prepared, int t0, int count, float[] dots) {
        long at = (long) (firstRow + row) * cols;
        if (prepared instanceof Halves h) {
            bf16Pairs(at, h, t0, count, dots);
            return;
        }
        if (dtype != DType.F32 || !Lanes.VECTOR) {
            float[] w = rowBuffer.get();
            row(row, w, 0);
            for (int k = 0; k < count; k++) dots[k] = io.entrollm.infer.VectorMath.dot(w, 0, x, (t0 + k) * cols, cols);
            return;
        }
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (int bound = cols - cols % Lanes.L; i < bound; i += Lanes.L) {
            FloatVector w = FloatVector.fromMemorySegment(Lanes.F, data, 4 * (at + i), ByteOrder.LITTLE_ENDIAN);
            acc0 = w.fma(FloatVector.fromArray(Lanes.F, x, t0 * cols + i), acc0);
            if (count > 1) acc1 = w.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 1) * cols + i), acc1);
            if (count > 2) acc2 = w.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 2) * cols + i), acc2);
            if (count > 3) acc3 = w.fma(FloatVector.fromArray(Lanes.F, x, (t0 + 3) * cols + i), acc3);
        }
        dots[0] = acc0.reduceLanes(VectorOperators.ADD);
        if (count > 1) dots[1] = acc1.reduceLanes(VectorOperators.ADD);
        if (count > 2) dots[2] = acc2.reduceLanes(VectorOperators.ADD);
        if (count > 3) dots[3] = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            float w = weight(at + i);
            for (int k = 0; k < count; k++) dots[k] += w * x[(t0 + k) * cols + i];
        }
    }

    /** A bf16 row (starting at an even element) against a tile of tokens, two elements per int lane. */
    private void bf16Pairs(long at, Halves h, int t0, int count, float[] dots) {
        int half = cols / 2, k = 0;
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int bound = half - half % Lanes.L; k < bound; k += Lanes.L) {
            IntVector pair = IntVector.fromMemorySegment(Lanes.I, data, 2 * at + 4L * k, ByteOrder.LITTLE_ENDIAN);
            FloatVector even = pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector odd = pair.and(0xFFFF0000).reinterpretAsFloats();
            acc0 = odd.fma(FloatVector.fromArray(Lanes.F, h.odd(), t0 * half + k), even.fma(FloatVector.fromArray(Lanes.F, h.even(), t0 * half + k), acc0));
            if (count > 1) acc1 = odd.fma(FloatVector.fromArray(Lanes.F, h.odd(), (t0 + 1) * half + k), even.fma(FloatVector.fromArray(Lanes.F, h.even(), (t0 + 1) * half + k), acc1));
            if (count > 2) acc2 = odd.fma(FloatVector.fromArray(Lanes.F, h.odd(), (t0 + 2) * half + k), even.fma(FloatVector.fromArray(Lanes.F, h.even(), (t0 + 2) * half + k), acc2));
            if (count > 3) acc3 = odd.fma(FloatVector.fromArray(Lanes.F, h.odd(), (t0 + 3) * half + k), even.fma(FloatVector.fromArray(Lanes.F, h.even(), (t0 + 3) * half + k), acc3));
        }
        dots[0] = acc0.reduceLanes(VectorOperators.ADD);
        if (count > 1) dots[1] = acc1.reduceLanes(VectorOperators.ADD);
        if (count > 2) dots[2] = acc2.reduceLanes(VectorOperators.ADD);
        if (count > 3) dots[3] = acc3.reduceLanes(VectorOperators.ADD);
        for (; k < half; k++) {
            float e = weight(at + 2L * k), o = weight(at + 2L * k + 1);
            for (int j = 0; j < count; j++) dots[j] += e * h.even()[(t0 + j) * half + k] + o * h.odd()[(t0 + j) * half + k];
        }
    }

    private float weight(long index) {
        return switch (dtype) {
            case F32 -> data.get(F32, 4 * index);
            case BF16 -> Float.intBitsToFloat((data.get(I16, 2 * index) & 0xFFFF) << 16);
            default -> Float.float16ToFloat(data.get(I16, 2 * index));
        };
    }

    @Override
    public void row(int r, float[] out, int off) {
        long at = (long) (firstRow + r) * cols;
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, 4 * at, out, off, cols);
            return;
        }
        for (int i = 0; i < cols; i++) out[off + i] = weight(at + i);
    }
}
