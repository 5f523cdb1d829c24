package io.entrollm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reads tensor elements as float32, whatever their storage type. GGML block types are dequantized
 * with the formulas of ggml's reference implementation ({@link GgmlDequant}).
 */
public final class TensorReader {
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorReader() {}

    /** All elements as a new float array. */
    public static float[] toFloats(Tensor t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + n + " elements, too many for one array");
        }
        float[] out = new float[(int) n];
        readFloats(t.dtype(), t.data(), 0, out, 0, (int) n);
        return out;
    }

    /**
     * Reads {@code count} elements starting at element {@code first} of {@code data} (of type
     * {@code dtype}) into {@code out[outOffset..]}. For block types, {@code first} and {@code count}
     * must be whole blocks.
     */
    public static void readFloats(DType dtype, MemorySegment data, long first, float[] out, int outOffset, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32, first * 4, out, outOffset, count);
            case F16 -> { for (int i = 0; i < count; i++) out[outOffset + i] = Float.float16ToFloat(data.get(I16, (first + i) * 2)); }
            case BF16 -> { for (int i = 0; i < count; i++) out[outOffset + i] = FloatBits.bf16ToFloat(data.get(I16, (first + i) * 2)); }
            case F64 -> { for (int i = 0; i < count; i++) out[outOffset + i] = (float) data.get(F64, (first + i) * 8); }
            case I8 -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(ValueLayout.JAVA_BYTE, first + i); }
            case U8, BOOL -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(ValueLayout.JAVA_BYTE, first + i) & 0xFF; }
            case I16 -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(I16, (first + i) * 2); }
            case U16 -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(I16, (first + i) * 2) & 0xFFFF; }
            case I32 -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(I32, (first + i) * 4); }
            case U32 -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(I32, (first + i) * 4) & 0xFFFFFFFFL; }
            case I64 -> { for (int i = 0; i < count; i++) out[outOffset + i] = data.get(I64, (first + i) * 8); }
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K -> readBlocks(dtype, data, first, out, outOffset, count);
        }
    }

    private static void readBlocks(DType dtype, MemorySegment data, long first, float[] out, int outOffset, int count) {
        int qk = dtype.blockElements();
        if (first % qk != 0 || count % qk != 0) {
            throw new IllegalArgumentException(dtype + " reads must cover whole blocks of " + qk);
        }
        long block = first / qk;
        for (int b = 0; b < count / qk; b++, block++) GgmlDequant.block(dtype, data, block * dtype.blockBytes(), out, outOffset + b * qk);
    }
}
