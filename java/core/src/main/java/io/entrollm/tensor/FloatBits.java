package io.entrollm.tensor;

/** Conversions between float32 and the 16-bit float formats, with round-to-nearest-even. */
public final class FloatBits {
    private FloatBits() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float32 to bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short bits) { return Float.float16ToFloat(bits); }

    /** float32 to IEEE half with round-to-nearest-even (the JDK's conversion). */
    public static short floatToF16(float f) { return Float.floatToFloat16(f); }
}
