package io.entrollm.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Block types dequantize exactly as ggml's reference formulas say (computed here independently). */
class GgmlBlockDequantTest {
    private static final int BLOCKS = 5;

    @Test
    void q8_0IsScaleTimesSignedByte() {
        Random r = new Random(1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(BLOCKS * 34L);
            float[] expected = new float[BLOCKS * 32];
            for (int b = 0; b < BLOCKS; b++) {
                short d = Float.floatToFloat16(r.nextFloat() * 0.01f);
                seg.set(TensorReader.I16, b * 34L, d);
                for (int j = 0; j < 32; j++) {
                    byte q = (byte) (r.nextInt(255) - 127);
                    seg.set(ValueLayout.JAVA_BYTE, b * 34L + 2 + j, q);
                    expected[b * 32 + j] = q * Float.float16ToFloat(d);
                }
            }
            assertArrayBitsEqual(expected, TensorReader.toFloats(new Tensor("q8", DType.Q8_0, new long[] {BLOCKS * 32}, seg)));
        }
    }

    @Test
    void q4_0IsScaleTimesNibbleMinusEightLowNibblesFirst() {
        Random r = new Random(2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(BLOCKS * 18L);
            float[] expected = new float[BLOCKS * 32];
            for (int b = 0; b < BLOCKS; b++) {
                short d = Float.floatToFloat16(r.nextFloat());
                seg.set(TensorReader.I16, b * 18L, d);
                for (int j = 0; j < 16; j++) {
                    int lo = r.nextInt(16), hi = r.nextInt(16);
                    seg.set(ValueLayout.JAVA_BYTE, b * 18L + 2 + j, (byte) (lo | hi << 4));
                    expected[b * 32 + j] = (lo - 8) * Float.float16ToFloat(d);
                    expected[b * 32 + 16 + j] = (hi - 8) * Float.float16ToFloat(d);
                }
            }
            assertArrayBitsEqual(expected, TensorReader.toFloats(new Tensor("q4", DType.Q4_0, new long[] {1, BLOCKS * 32}, seg)));
        }
    }

    @Test
    void q4_1IsScaleTimesNibblePlusMin() {
        Random r = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(BLOCKS * 20L);
            float[] expected = new float[BLOCKS * 32];
            for (int b = 0; b < BLOCKS; b++) {
                short d = Float.floatToFloat16(r.nextFloat()), m = Float.floatToFloat16(-r.nextFloat());
                seg.set(TensorReader.I16, b * 20L, d);
                seg.set(TensorReader.I16, b * 20L + 2, m);
                for (int j = 0; j < 16; j++) {
                    int lo = r.nextInt(16), hi = r.nextInt(16);
                    seg.set(ValueLayout.JAVA_BYTE, b * 20L + 4 + j, (byte) (lo | hi << 4));
                    expected[b * 32 + j] = lo * Float.float16ToFloat(d) + Float.float16ToFloat(m);
                    expected[b * 32 + 16 + j] = hi * Float.float16ToFloat(d) + Float.float16ToFloat(m);
                }
            }
            assertArrayBitsEqual(expected, TensorReader.toFloats(new Tensor("q41", DType.Q4_1, new long[] {BLOCKS * 32}, seg)));
        }
    }

    @Test
    void sixteenBitFloatsConvertWithRoundToNearestEven() {
        assertEquals(1.0f, FloatBits.bf16ToFloat(FloatBits.floatToBf16(1.0f)));
        // 1 + 2^-8 lies exactly between two bf16 values; ties go to the even mantissa (1.0).
        assertEquals(1.0f, FloatBits.bf16ToFloat(FloatBits.floatToBf16(1.0f + 0x1p-8f)));
        assertEquals(1.0f + 0x1p-7f, FloatBits.bf16ToFloat(FloatBits.floatToBf16(1.0f + 0x1p-7f + 0x1p-9f)));
        assertEquals(Float.NaN, FloatBits.bf16ToFloat(FloatBits.floatToBf16(Float.NaN)));
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = FloatBits.bf16ToFloat((short) bits);
            if (!Float.isNaN(f)) assertEquals((short) bits, FloatBits.floatToBf16(f), "bf16 0x" + Integer.toHexString(bits));
        }
    }

    private static void assertArrayBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), "element " + i);
        }
    }
}
