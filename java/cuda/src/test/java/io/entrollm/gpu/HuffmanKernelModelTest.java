package io.entrollm.gpu;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.SymbolHistogram;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A line-by-line Java model of the warp schedule in cuda-kernels/huffman_decode.cu (rounds of 32
 * symbols per thread into a 32 x 33 tile, then row-by-row writes), run on the CPU against the
 * encoder's input. It checks the kernel's index arithmetic (rounds, short last chunk, partial last
 * warp) where no GPU is available; GpuDecodeTest checks the kernel itself.
 */
class HuffmanKernelModelTest {
    static final int TILE = 32, STRIDE = 33;

    @Property(tries = 60)
    void tiledWarpScheduleWritesEverySymbolOnce(@ForAll @IntRange(min = 1, max = 20_000) int n, @ForAll @IntRange(min = 32, max = 700) int chunk,
                                                 @ForAll @IntRange(min = 2, max = 8) int bits, @ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] symbols = new byte[n];
        for (int i = 0; i < n; i++) symbols[i] = (byte) Math.min((1 << bits) - 1, Math.abs((int) (rnd.nextGaussian() * (1 << bits) / 6)));
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 1 << bits), Math.max(bits, 12));
        HuffmanStream s = HuffmanEncoder.encode(symbols, cb, chunk);
        int tableBits = Math.max(1, cb.maxLength());
        short[] table = cb.decodeTable(tableBits);
        byte[] out = new byte[n];
        java.util.Arrays.fill(out, (byte) -1);
        int[] writes = new int[n];
        int nChunks = s.chunkCount();
        for (int warpFirst = 0; warpFirst < nChunks; warpFirst += 32) {
            float[] tile = new float[TILE * STRIDE];
            long[] pos = new long[32], end = new long[32], first = new long[32];
            int[] len = new int[32];
            for (int lane = 0; lane < 32; lane++) {
                int c = warpFirst + lane;
                if (c >= nChunks) continue;
                pos[lane] = s.chunkBitOffsets()[c];
                end[lane] = s.chunkEndBit(c);
                first[lane] = (long) c * chunk;
                len[lane] = (int) (Math.min(first[lane] + chunk, n) - first[lane]);
            }
            int roundsLen = java.util.Arrays.stream(len).max().orElse(0);
            for (int base = 0; base < roundsLen; base += TILE) {
                for (int lane = 0; lane < 32; lane++) {
                    for (int k = 0; k < TILE; k++) {
                        if (base + k >= len[lane]) break;
                        int entry = table[peek(s.words(), pos[lane], tableBits)] & 0xFFFF;
                        if (entry == 0) throw new AssertionError("invalid code");
                        pos[lane] += entry & 0xFF;
                        tile[lane * STRIDE + k] = entry >> 8;
                    }
                }
                for (int r = 0; r < TILE; r++) {
                    int c = warpFirst + r;
                    if (c >= nChunks) break;
                    long cFirst = (long) c * chunk, cLast = Math.min(cFirst + chunk, n);
                    for (int lane = 0; lane < 32; lane++) {
                        long i = cFirst + base + lane;
                        if (i < cLast) {
                            out[(int) i] = (byte) (int) tile[r * STRIDE + lane];
                            writes[(int) i]++;
                        }
                    }
                }
            }
            for (int lane = 0; lane < 32; lane++) if (warpFirst + lane < nChunks && pos[lane] != end[lane]) throw new AssertionError("chunk end");
        }
        assertArrayEquals(symbols, out);
        for (int w : writes) if (w != 1) throw new AssertionError("a symbol written " + w + " times");
    }

    /** entro::peek_bits: n bits at bit position pos of MSB-first u32 words. */
    static int peek(int[] words, long pos, int n) {
        int w = (int) (pos >>> 5);
        long window = ((words[w] & 0xFFFFFFFFL) << 32) | (words[w + 1] & 0xFFFFFFFFL);
        return (int) ((window << (pos & 31)) >>> (64 - n));
    }
}
