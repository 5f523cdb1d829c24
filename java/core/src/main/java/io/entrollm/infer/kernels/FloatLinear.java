package io.entrollm.infer.kernels;

import io.entrollm.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Unquantized weights as stored, little-endian: float32 read as it lies; bf16 widened in registers
 * (its bits are the top half of a float32); f16 converted a row at a time into a float32 buffer (the
 * Vector API has no half-precision conversion), then used for every token of the tile.
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

    @Override
    void dotRow(int row, float[] x, Object prepared, int t0, int count, float[] dots) {
        long at = (long) (firstRow + row) * cols;
        if (dtype == DType.F16 || !Lanes.VECTOR) {
            float[] w = rowBuffer.get();
            row(row, w, 0);
            for (int k = 0; k < count; k++) dots[k] = io.entrollm.infer.VectorMath.dot(w, 0, x, (t0 + k) * cols, cols);
            return;
        }
        FloatVector acc0 = FloatVector.zero(Lanes.F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (int bound = cols - cols % Lanes.L; i < bound; i += Lanes.L) {
            FloatVector w = dtype == DType.F32
                    ? FloatVector.fromMemorySegment(Lanes.F, data, 4 * (at + i), ByteOrder.LITTLE_ENDIAN)
                    : ((IntVector) ShortVector.fromMemorySegment(Lanes.S, data, 2 * (at + i), ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.S2I, Lanes.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
