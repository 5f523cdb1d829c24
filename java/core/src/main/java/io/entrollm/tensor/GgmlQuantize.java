package io.entrollm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * float32 to GGML Q8_0 and Q4_0 blocks by ggml's reference quantizers ({@code quantize_row_q8_0_ref},
 * {@code quantize_row_q4_0_ref} in ggml-quants.c: the ones llama.cpp's quantizer uses without an
 * importance matrix), operation for operation in float32, so the blocks written here are the bytes
 * llama.cpp writes for the same values (checked against llama.cpp's quantizer in the interop tests).
 */
public final class GgmlQuantize {
    private GgmlQuantize() {}

    /** Quantizes {@code x[from, from + count)} ({@code count} a multiple of 32) into blocks at byte {@code at} of {@code out}. */
    public static void row(DType dtype, float[] x, int from, int count, MemorySegment out, long at) {
        if (count % 32 != 0) throw new IllegalArgumentException(dtype + " takes whole blocks of 32, not " + count + " values");
        for (int b = 0; b < count / 32; b++, at += dtype.blockBytes()) {
            switch (dtype) {
                case Q8_0 -> q8_0(x, from + 32 * b, out, at);
                case Q4_0 -> q4_0(x, from + 32 * b, out, at);
                default -> throw new IllegalArgumentException("no quantizer for " + dtype + " (Q8_0 and Q4_0 are written)");
            }
        }
    }

    // d = amax / 127; q = roundf(x / d) computed as x * (1/d); d stored as f16 (the unrounded d divides)
    private static void q8_0(float[] x, int i0, MemorySegment out, long at) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i0 + j]));
        float d = amax / 127;
        float id = d != 0f ? 1.0f / d : 0f;
        out.set(TensorReader.I16, at, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) out.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundf(x[i0 + j] * id));
    }

    // max = the value of largest magnitude (the first of equals); d = max / -8; q = min(15, (int8)(x / d + 8.5))
    private static void q4_0(float[] x, int i0, MemorySegment out, long at) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[i0 + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0f ? 1.0f / d : 0f;
        out.set(TensorReader.I16, at, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (byte) (int) (x[i0 + j] * id + 8.5f));
            int hi = Math.min(15, (byte) (int) (x[i0 + 16 + j] * id + 8.5f));
            out.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (lo | hi << 4));
        }
    }

    /** C's roundf: halfway cases away from zero (Java's Math.round goes up), exact for every float. */
    static float roundf(float v) {
        float r = (float) Math.floor(Math.abs((double) v) + 0.5);
        return Math.copySign(r, v);
    }
}
