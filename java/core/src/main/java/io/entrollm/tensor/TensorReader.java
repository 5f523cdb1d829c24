package io.entrollm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reads tensor elements as float32, whatever their storage type. GGML block types are dequantized
 * with the formulas of ggml's reference implementation (quoted at each block type).
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
            case Q8_0, Q4_0, Q4_1 -> readBlocks(dtype, data, first, out, outOffset, count);
        }
    }

    private static void readBlocks(DType dtype, MemorySegment data, long first, float[] out, int outOffset, int count) {
        int qk = dtype.blockElements();
        if (first % qk != 0 || count % qk != 0) {
            throw new IllegalArgumentException(dtype + " reads must cover whole blocks of " + qk);
        }
        long block = first / qk;
        for (int b = 0; b < count / qk; b++, block++) {
            long base = block * dtype.blockBytes();
            int o = outOffset + b * qk;
            float d = Float.float16ToFloat(data.get(I16, base));
            switch (dtype) {
                // ggml dequantize_row_q8_0: y[j] = x.qs[j] * d
                case Q8_0 -> { for (int j = 0; j < qk; j++) out[o + j] = data.get(ValueLayout.JAVA_BYTE, base + 2 + j) * d; }
                // ggml dequantize_row_q4_0: x0 = (qs[j] & 0x0F) - 8, x1 = (qs[j] >> 4) - 8; y[j] = x0*d, y[j+qk/2] = x1*d
                case Q4_0 -> {
                    for (int j = 0; j < qk / 2; j++) {
                        int q = data.get(ValueLayout.JAVA_BYTE, base + 2 + j) & 0xFF;
                        out[o + j] = ((q & 0x0F) - 8) * d;
                        out[o + j + qk / 2] = ((q >>> 4) - 8) * d;
                    }
                }
                // ggml dequantize_row_q4_1: y[j] = (qs[j] & 0x0F)*d + m, y[j+qk/2] = (qs[j] >> 4)*d + m
                case Q4_1 -> {
                    float m = Float.float16ToFloat(data.get(I16, base + 2));
                    for (int j = 0; j < qk / 2; j++) {
                        int q = data.get(ValueLayout.JAVA_BYTE, base + 4 + j) & 0xFF;
                        out[o + j] = (q & 0x0F) * d + m;
                        out[o + j + qk / 2] = (q >>> 4) * d + m;
                    }
                }
                default -> throw new AssertionError(dtype);
            }
        }
    }
}
