package io.entrollm.model;

import io.entrollm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The row permutation llama.cpp applies to q/k projections of {@code llama} models.
 *
 * <p>Hugging Face rotates the two halves of each head ({@code rotate_half}); ggml's llama RoPE
 * rotates adjacent pairs. convert_hf_to_gguf.py therefore reorders the rows of each head from
 * {@code [x0..x(d/2-1), y0..y(d/2-1)]} to {@code [x0, y0, x1, y1, ...]}:
 * {@code gguf[h*d + 2i + j] = hf[h*d + j*d/2 + i]} for head h, i in [0, d/2), j in {0, 1}. Rows are
 * moved whole, so the permutation is exact for every dtype (block-quantized rows included).
 */
public final class RopePermutation {
    private RopePermutation() {}

    /** Hugging Face row order to GGUF row order. */
    public static Tensor toGguf(Tensor t, int heads, Arena arena) { return permute(t, heads, arena, true); }

    /** GGUF row order back to Hugging Face row order. */
    public static Tensor toHuggingFace(Tensor t, int heads, Arena arena) { return permute(t, heads, arena, false); }

    private static Tensor permute(Tensor t, int heads, Arena arena, boolean toGguf) {
        long rows = t.dim(0);
        if (rows < 1 || heads < 1 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': " + rows + " rows do not split into " + heads
                    + " heads of even size");
        }
        long rowBytes = t.byteSize() / rows;
        long headDim = rows / heads, half = headDim / 2;
        MemorySegment out = arena.allocate(t.byteSize(), 64);
        for (long h = 0; h < heads; h++) {
            for (long i = 0; i < half; i++) {
                for (long j = 0; j < 2; j++) {
                    long hfRow = h * headDim + j * half + i;
                    long ggufRow = h * headDim + 2 * i + j;
                    long src = toGguf ? hfRow : ggufRow, dst = toGguf ? ggufRow : hfRow;
                    MemorySegment.copy(t.data(), src * rowBytes, out, dst * rowBytes, rowBytes);
                }
            }
        }
        return new Tensor(t.name(), t.dtype(), t.shape(), out);
    }
}
