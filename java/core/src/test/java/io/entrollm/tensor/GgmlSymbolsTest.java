package io.entrollm.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Splitting GGML blocks into quantized values and side bytes loses nothing, and the values are the weights' own. */
class GgmlSymbolsTest {
    private static final DType[] BLOCK_TYPES = {DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q8_K};

    @Property(tries = 40)
    void joinUndoesSplitBitForBit(@ForAll @IntRange(min = 0, max = 5) int blocks, @ForAll long seed) {
        Random r = new Random(seed);
        for (DType t : BLOCK_TYPES) {
            byte[] original = new byte[blocks * t.blockBytes()];
            r.nextBytes(original);
            byte[] symbols = new byte[blocks * t.blockElements()], side = new byte[blocks * GgmlSymbols.sideBytes(t)];
            GgmlSymbols.split(t, MemorySegment.ofArray(original), blocks, symbols, side);
            for (byte s : symbols) assertTrue((s & 0xFF) < 1 << GgmlSymbols.bits(t), t + " symbol " + (s & 0xFF));
            byte[] back = new byte[original.length];
            GgmlSymbols.join(t, symbols, side, blocks, MemorySegment.ofArray(back));
            assertArrayEquals(original, back, t.name());
        }
    }

    @Test
    void symbolWidthsAndSideBytesFollowTheBlockLayouts() {
        int[][] expected = {{8, 2}, {4, 2}, {4, 4}, {5, 2}, {5, 4}, {2, 20}, {3, 14}, {4, 16}, {5, 16}, {6, 18}, {8, 36}};
        for (int k = 0; k < BLOCK_TYPES.length; k++) {
            DType t = BLOCK_TYPES[k];
            assertEquals(expected[k][0], GgmlSymbols.bits(t), t + " bits");
            assertEquals(expected[k][1], GgmlSymbols.sideBytes(t), t + " side bytes");
            // every bit of a block is either a symbol bit or a side byte bit
            assertEquals(8 * t.blockBytes(), t.blockElements() * GgmlSymbols.bits(t) + 8 * GgmlSymbols.sideBytes(t), t.name());
        }
    }

    @Test
    void symbolsAreTheQuantizedValuesTheWeightsAreComputedFrom() {
        Random r = new Random(7);
        for (DType t : new DType[] {DType.Q4_0, DType.Q6_K, DType.Q8_0}) {
            byte[] block = new byte[t.blockBytes()];
            r.nextBytes(block);
            MemorySegment seg = MemorySegment.ofArray(block);
            int dAt = t == DType.Q6_K ? 208 : 0;
            seg.set(TensorReader.I16, dAt, Float.floatToFloat16(0.01f));
            byte[] symbols = new byte[t.blockElements()], side = new byte[GgmlSymbols.sideBytes(t)];
            GgmlSymbols.split(t, seg, 1, symbols, side);
            float[] w = new float[t.blockElements()];
            GgmlDequant.block(t, seg, 0, w, 0);
            float d = Float.float16ToFloat(Float.floatToFloat16(0.01f));
            for (int i = 0; i < w.length; i++) {
                int q = symbols[i] & 0xFF;
                float expected = switch (t) {
                    case Q4_0 -> (q - 8) * d;
                    case Q8_0 -> (byte) q * d;
                    default -> d * block[192 + i / 16] * (q - 32);   // Q6_K: d * scale of the 16 * (q - 32)
                };
                assertEquals(expected, w[i], t + " element " + i);
            }
        }
    }
}
