package io.entrollm.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Q5_0, Q5_1 and the k-quants dequantize to known values. Each test builds blocks the other way round
 * from {@link GgmlDequant}: it picks every weight's quantized value and every sub-block's scale, then
 * places each one at the bits ggml-common.h's block layout gives that element index (not by walking
 * ggml's decoding loops), and expects ggml's formula for that element. The bit-exact match with
 * llama.cpp's own dequantization is checked on llama.cpp's files in the interop tests.
 */
class GgmlKQuantDequantTest {
    private static final int BLOCKS = 3;

    /** A block under construction: bytes set bit field by bit field. */
    private static final class Block {
        final byte[] b;
        Block(int size) { b = new byte[size]; }
        void bits(int at, int shift, int width, int value) {
            int mask = ((1 << width) - 1) << shift;
            b[at] = (byte) ((b[at] & ~mask) | ((value << shift) & mask));
        }
        void half(int at, short h) { b[at] = (byte) h; b[at + 1] = (byte) (h >> 8); }
    }

    private interface BlockMaker { float[] make(Random r, Block blk); }

    private static void check(DType dtype, long seed, BlockMaker maker) {
        Random r = new Random(seed);
        int n = dtype.blockElements();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate((long) BLOCKS * dtype.blockBytes());
            float[] expected = new float[BLOCKS * n];
            for (int k = 0; k < BLOCKS; k++) {
                Block blk = new Block(dtype.blockBytes());
                System.arraycopy(maker.make(r, blk), 0, expected, k * n, n);
                MemorySegment.copy(blk.b, 0, seg, ValueLayout.JAVA_BYTE, (long) k * dtype.blockBytes(), blk.b.length);
            }
            float[] actual = TensorReader.toFloats(new Tensor("t", dtype, new long[] {2, BLOCKS * n / 2}, seg));
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), dtype + " element " + i + ": " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    private static short f16(Random r, double scale) { return Float.floatToFloat16((float) (r.nextDouble() * scale)); }

    private static float f(short h) { return Float.float16ToFloat(h); }

    @Test
    void q5_0AndQ5_1TakeTheFifthBitOfElementJFromBitJ() {
        for (boolean withMin : new boolean[] {false, true}) {
            check(withMin ? DType.Q5_1 : DType.Q5_0, withMin ? 11 : 10, (r, blk) -> {
                short d = f16(r, 0.1), m = Float.floatToFloat16((float) -r.nextDouble());
                blk.half(0, d);
                if (withMin) blk.half(2, m);
                int qh = withMin ? 4 : 2, qs = qh + 4;
                float[] w = new float[32];
                for (int j = 0; j < 32; j++) {
                    int q = r.nextInt(32);
                    blk.bits(qs + j % 16, j < 16 ? 0 : 4, 4, q & 0xF);
                    blk.bits(qh + j / 8, j % 8, 1, q >> 4);
                    w[j] = withMin ? q * f(d) + f(m) : (q - 16) * f(d);
                }
                return w;
            });
        }
    }

    @Test
    void q2_KHasFourTwoBitPlanesPerHalfAndANibbleScaleAndMinPerSixteen() {
        check(DType.Q2_K, 12, (r, blk) -> {
            short d = f16(r, 0.05), dmin = f16(r, 0.05);
            blk.half(80, d);
            blk.half(82, dmin);
            int[] sc = new int[16], mn = new int[16];
            for (int s = 0; s < 16; s++) {
                sc[s] = r.nextInt(16);
                mn[s] = r.nextInt(16);
                blk.bits(s, 0, 4, sc[s]);
                blk.bits(s, 4, 4, mn[s]);
            }
            float[] w = new float[256];
            for (int i = 0; i < 256; i++) {
                int q = r.nextInt(4), h = i / 128, plane = i % 128 / 32, s = i / 16;
                blk.bits(16 + 32 * h + i % 32, 2 * plane, 2, q);
                w[i] = f(d) * sc[s] * q - f(dmin) * mn[s];
            }
            return w;
        });
    }

    @Test
    void q3_KAddsAHighBitMaskAndSixBitScalesBiasedBy32() {
        check(DType.Q3_K, 13, (r, blk) -> {
            short d = f16(r, 0.05);
            blk.half(108, d);
            int[] sc = new int[16];
            for (int s = 0; s < 16; s++) {
                sc[s] = r.nextInt(64);
                blk.bits(96 + s % 8, s < 8 ? 0 : 4, 4, sc[s] & 0xF);
                blk.bits(96 + 8 + s % 4, 2 * (s / 4), 2, sc[s] >> 4);
            }
            float[] w = new float[256];
            for (int i = 0; i < 256; i++) {
                int low = r.nextInt(4), high = r.nextInt(2), h = i / 128, plane = i % 128 / 32;
                blk.bits(32 + 32 * h + i % 32, 2 * plane, 2, low);
                blk.bits(i % 32, 4 * h + plane, 1, high);
                w[i] = f(d) * (sc[i / 16] - 32) * (low - (high == 1 ? 0 : 4));
            }
            return w;
        });
    }

    /** get_scale_min_k4's packing of eight 6-bit scales and mins into 12 bytes at {@code at}. */
    private static void k4Scales(Block blk, int at, int[] sc, int[] mn) {
        for (int s = 0; s < 8; s++) {
            if (s < 4) {
                blk.bits(at + s, 0, 6, sc[s]);
                blk.bits(at + s + 4, 0, 6, mn[s]);
            } else {
                blk.bits(at + s + 4, 0, 4, sc[s] & 0xF);
                blk.bits(at + s + 4, 4, 4, mn[s] & 0xF);
                blk.bits(at + s - 4, 6, 2, sc[s] >> 4);
                blk.bits(at + s, 6, 2, mn[s] >> 4);
            }
        }
    }

    @Test
    void q4_KAndQ5_KHaveEightSubBlocksOf32WithSixBitScalesAndMins() {
        for (boolean fifth : new boolean[] {false, true}) {
            check(fifth ? DType.Q5_K : DType.Q4_K, fifth ? 15 : 14, (r, blk) -> {
                short d = f16(r, 0.01), dmin = f16(r, 0.01);
                blk.half(0, d);
                blk.half(2, dmin);
                int[] sc = new int[8], mn = new int[8];
                for (int s = 0; s < 8; s++) {
                    sc[s] = r.nextInt(64);
                    mn[s] = r.nextInt(64);
                }
                k4Scales(blk, 4, sc, mn);
                int qs = fifth ? 48 : 16;
                float[] w = new float[256];
                for (int i = 0; i < 256; i++) {
                    int s = i / 32, q = r.nextInt(fifth ? 32 : 16);
                    blk.bits(qs + 32 * (s / 2) + i % 32, s % 2 == 0 ? 0 : 4, 4, q & 0xF);
                    if (fifth) blk.bits(16 + i % 32, s, 1, q >> 4);
                    w[i] = f(d) * sc[s] * q - f(dmin) * mn[s];
                }
                return w;
            });
        }
    }

    @Test
    void q6_KSplitsSixBitsIntoNibblesAndTwoBitPairsWithSignedScales() {
        check(DType.Q6_K, 16, (r, blk) -> {
            short d = f16(r, 0.01);
            blk.half(208, d);
            int[] sc = new int[16];
            for (int s = 0; s < 16; s++) {
                sc[s] = r.nextInt(256) - 128;
                blk.bits(192 + s, 0, 8, sc[s]);
            }
            float[] w = new float[256];
            for (int i = 0; i < 256; i++) {
                int q = r.nextInt(64), n = i / 128, quarter = i % 128 / 32, l = i % 32;
                blk.bits(64 * n + l + (quarter % 2) * 32, quarter < 2 ? 0 : 4, 4, q & 0xF);
                blk.bits(128 + 32 * n + l, 2 * quarter, 2, q >> 4);
                w[i] = f(d) * sc[i / 16] * (q - 32);
            }
            return w;
        });
    }

    @Test
    void q8_KIsAFloatScaleTimesSignedBytes() {
        check(DType.Q8_K, 17, (r, blk) -> {
            float d = (float) (r.nextDouble() * 0.01);
            int bits = Float.floatToIntBits(d);
            for (int k = 0; k < 4; k++) blk.bits(k, 0, 8, bits >>> (8 * k));
            float[] w = new float[256];
            for (int i = 0; i < 256; i++) {
                int q = r.nextInt(256) - 128;
                blk.bits(4 + i, 0, 8, q);
                w[i] = d * q;
            }
            return w;
        });
    }
}
