package io.entrollm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One GGML block to float32, by the formulas of ggml's reference {@code dequantize_row_*} (ggml-quants.c),
 * with the same float operations in the same order, so the result is bit-identical to llama.cpp's
 * reference dequantization (checked against it in the llama.cpp interop tests). Byte offsets below are
 * those of ggml-common.h's block structs; every multi-byte field is little-endian.
 */
public final class GgmlDequant {
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    private GgmlDequant() {}

    /** Dequantizes the block of {@code dtype} at byte {@code base} of {@code data} into {@code out[o ..]}. */
    public static void block(DType dtype, MemorySegment data, long base, float[] out, int o) {
        switch (dtype) {
            case Q8_0 -> q8_0(data, base, out, o);
            case Q4_0 -> q4_0(data, base, out, o);
            case Q4_1 -> q4_1(data, base, out, o);
            case Q5_0 -> q5(data, base, out, o, false);
            case Q5_1 -> q5(data, base, out, o, true);
            case Q2_K -> q2K(data, base, out, o);
            case Q3_K -> q3K(data, base, out, o);
            case Q4_K -> q45K(data, base, out, o, false);
            case Q5_K -> q45K(data, base, out, o, true);
            case Q6_K -> q6K(data, base, out, o);
            case Q8_K -> q8K(data, base, out, o);
            default -> throw new IllegalArgumentException(dtype + " is not a GGML block type");
        }
    }

    /** Row {@code row} of a matrix of {@code blocksPerRow} blocks a row, dequantized into {@code out[off ..]}. */
    public static void row(DType dtype, MemorySegment data, long row, int blocksPerRow, float[] out, int off) {
        long base = row * blocksPerRow * dtype.blockBytes();
        for (int b = 0; b < blocksPerRow; b++) block(dtype, data, base + (long) b * dtype.blockBytes(), out, off + b * dtype.blockElements());
    }

    private static float half(MemorySegment data, long at) { return Float.float16ToFloat(data.get(TensorReader.I16, at)); }

    private static int u8(MemorySegment data, long at) { return data.get(B, at) & 0xFF; }

    // dequantize_row_q8_0: y[j] = x.qs[j] * d
    private static void q8_0(MemorySegment data, long base, float[] out, int o) {
        float d = half(data, base);
        for (int j = 0; j < 32; j++) out[o + j] = data.get(B, base + 2 + j) * d;
    }

    // dequantize_row_q4_0: y[j] = ((qs[j] & 0x0F) - 8) * d, y[j + 16] = ((qs[j] >> 4) - 8) * d
    private static void q4_0(MemorySegment data, long base, float[] out, int o) {
        float d = half(data, base);
        for (int j = 0; j < 16; j++) {
            int q = u8(data, base + 2 + j);
            out[o + j] = ((q & 0x0F) - 8) * d;
            out[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    // dequantize_row_q4_1: y[j] = (qs[j] & 0x0F) * d + m, y[j + 16] = (qs[j] >> 4) * d + m
    private static void q4_1(MemorySegment data, long base, float[] out, int o) {
        float d = half(data, base), m = half(data, base + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(data, base + 4 + j);
            out[o + j] = (q & 0x0F) * d + m;
            out[o + j + 16] = (q >>> 4) * d + m;
        }
    }

    // dequantize_row_q5_0 / q5_1: the fifth bit of weight j is bit j of the u32 qh; q5_0: (q - 16) * d; q5_1: q * d + m
    private static void q5(MemorySegment data, long base, float[] out, int o, boolean withMin) {
        float d = half(data, base), m = withMin ? half(data, base + 2) : 0f;
        long qhAt = base + (withMin ? 4 : 2);
        int qh = data.get(TensorReader.I32, qhAt);
        for (int j = 0; j < 16; j++) {
            int q = u8(data, qhAt + 4 + j);
            int x0 = (q & 0x0F) | ((qh >>> j) << 4) & 0x10;
            int x1 = (q >>> 4) | (qh >>> (j + 12)) & 0x10;
            if (withMin) {
                out[o + j] = x0 * d + m;
                out[o + j + 16] = x1 * d + m;
            } else {
                out[o + j] = (x0 - 16) * d;
                out[o + j + 16] = (x1 - 16) * d;
            }
        }
    }

    // dequantize_row_q2_K: scales[16] (low nibble scale, high nibble min), qs[64] at 16, d at 80, dmin at 82.
    // 128 weights per half: 4 two-bit planes (shift 0, 2, 4, 6) of 32 bytes, each plane two sub-blocks of 16.
    private static void q2K(MemorySegment data, long base, float[] out, int o) {
        float d = half(data, base + 80), min = half(data, base + 82);
        int is = 0, y = o;
        for (int n = 0; n < 256; n += 128) {
            long q = base + 16 + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    int sc = u8(data, base + is++);
                    float dl = d * (sc & 0xF), ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) out[y++] = dl * ((u8(data, q + 16 * half + l) >>> shift) & 3) - ml;
                }
            }
        }
    }

    // dequantize_row_q3_K: hmask[32] at 0, qs[64] at 32, scales[12] at 96 (sixteen 6-bit scales, biased by 32), d at 108.
    // Weight value: (2-bit q) - 4 unless its bit in hmask is set.
    private static void q3K(MemorySegment data, long base, float[] out, int o) {
        float dAll = half(data, base + 108);
        int[] scales = q3Scales(data, base + 96);
        int is = 0, y = o, m = 1;
        for (int n = 0; n < 256; n += 128) {
            long q = base + 32 + n / 4;
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 2; half++) {
                    float dl = dAll * (scales[is++] - 32);
                    for (int l = 0; l < 16; l++) {
                        int hm = u8(data, base + 16 * half + l);
                        out[y++] = dl * (((u8(data, q + 16 * half + l) >>> shift) & 3) - ((hm & m) != 0 ? 0 : 4));
                    }
                }
            }
        }
    }

    /** Q3_K's 12 scale bytes as sixteen 6-bit values: low 4 bits from bytes 0-7 (nibbles), high 2 bits from bytes 8-11. */
    private static int[] q3Scales(MemorySegment data, long at) {
        int aux0 = data.get(TensorReader.I32, at), aux1 = data.get(TensorReader.I32, at + 4), tmp = data.get(TensorReader.I32, at + 8);
        final int kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        int[] words = {
                (aux0 & kmask2) | (((tmp) & kmask1) << 4),
                (aux1 & kmask2) | (((tmp >>> 2) & kmask1) << 4),
                ((aux0 >>> 4) & kmask2) | (((tmp >>> 4) & kmask1) << 4),
                ((aux1 >>> 4) & kmask2) | (((tmp >>> 6) & kmask1) << 4)};
        int[] scales = new int[16];
        for (int i = 0; i < 16; i++) scales[i] = (byte) (words[i / 4] >>> (8 * (i % 4)));
        return scales;
    }

    // dequantize_row_q4_K / q5_K: d at 0, dmin at 2, scales[12] at 4 (get_scale_min_k4), q5_K: qh[32] at 16 and qs at 48,
    // q4_K: qs at 16. Each 64 weights: 32 low nibbles (sub-block 2k) then 32 high nibbles (2k+1) of the same 32 bytes.
    private static void q45K(MemorySegment data, long base, float[] out, int o, boolean fifthBit) {
        float d = half(data, base), min = half(data, base + 2);
        long scales = base + 4, qh = base + 16, ql = base + (fifthBit ? 48 : 16);
        int y = o, is = 0, u1 = 1, u2 = 2;
        for (int j = 0; j < 256; j += 64, ql += 32, is += 2, u1 <<= 2, u2 <<= 2) {
            float d1 = d * scaleK4(data, scales, is), m1 = min * minK4(data, scales, is);
            float d2 = d * scaleK4(data, scales, is + 1), m2 = min * minK4(data, scales, is + 1);
            for (int l = 0; l < 32; l++) {
                int h = fifthBit && (u8(data, qh + l) & u1) != 0 ? 16 : 0;
                out[y++] = d1 * ((u8(data, ql + l) & 0xF) + h) - m1;
            }
            for (int l = 0; l < 32; l++) {
                int h = fifthBit && (u8(data, qh + l) & u2) != 0 ? 16 : 0;
                out[y++] = d2 * ((u8(data, ql + l) >>> 4) + h) - m2;
            }
        }
    }

    /** get_scale_min_k4's scale: sub-blocks 0-3 in the low 6 bits of bytes 0-3; 4-7 split over bytes j+4 (low) and j-4 (top 2). */
    private static int scaleK4(MemorySegment data, long q, int j) {
        return j < 4 ? u8(data, q + j) & 63 : (u8(data, q + j + 4) & 0xF) | ((u8(data, q + j - 4) >>> 6) << 4);
    }

    /** get_scale_min_k4's min: sub-blocks 0-3 in the low 6 bits of bytes 4-7; 4-7 split over bytes j+4 (high) and j (top 2). */
    private static int minK4(MemorySegment data, long q, int j) {
        return j < 4 ? u8(data, q + j + 4) & 63 : (u8(data, q + j + 4) >>> 4) | ((u8(data, q + j) >>> 6) << 4);
    }

    // dequantize_row_q6_K: ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, d at 208; w = d * sc * (q6 - 32)
    private static void q6K(MemorySegment data, long base, float[] out, int o) {
        float d = half(data, base + 208);
        long ql = base, qh = base + 128, sc = base + 192;
        for (int n = 0, y = o; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16, h = u8(data, qh + l);
                int q1 = ((u8(data, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(data, ql + l + 32) & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((u8(data, ql + l) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((u8(data, ql + l + 32) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                out[y + l] = d * data.get(B, sc + is) * q1;
                out[y + l + 32] = d * data.get(B, sc + is + 2) * q2;
                out[y + l + 64] = d * data.get(B, sc + is + 4) * q3;
                out[y + l + 96] = d * data.get(B, sc + is + 6) * q4;
            }
        }
    }

    // dequantize_row_q8_K: f32 d at 0, int8 qs[256] at 4 (block sums at 260 are not needed); y = d * q
    private static void q8K(MemorySegment data, long base, float[] out, int o) {
        float d = data.get(TensorReader.F32, base);
        for (int j = 0; j < 256; j++) out[o + j] = d * data.get(B, base + 4 + j);
    }
}
