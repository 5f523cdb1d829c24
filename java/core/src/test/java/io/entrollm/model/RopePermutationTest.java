package io.entrollm.model;

import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import io.entrollm.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RopePermutationTest {
    @Test
    void interleavesTheHalvesOfEachHead() {
        // 2 heads of dim 4, one column: row r holds value r.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(8 * 4L);
            for (int r = 0; r < 8; r++) seg.set(TensorReader.F32, r * 4L, r);
            Tensor hf = new Tensor("q", DType.F32, new long[] {8, 1}, seg);
            float[] gguf = TensorReader.toFloats(RopePermutation.toGguf(hf, 2, arena));
            assertArrayEquals(new float[] {0, 2, 1, 3, 4, 6, 5, 7}, gguf);
        }
    }

    @Test
    void roundTripsBitExactly() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Fixtures.randomBytes("k", DType.BF16, new long[] {128, 96}, 9, arena);
            Tensor back = RopePermutation.toHuggingFace(RopePermutation.toGguf(t, 4, arena), 4, arena);
            assertEquals(t, back);
            Tensor q8 = Fixtures.randomBytes("q", DType.Q8_0, new long[] {64, 64}, 10, arena);
            assertEquals(q8, RopePermutation.toHuggingFace(RopePermutation.toGguf(q8, 8, arena), 8, arena));
        }
    }
}
