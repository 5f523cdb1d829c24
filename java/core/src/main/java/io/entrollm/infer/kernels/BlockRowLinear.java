package io.entrollm.infer.kernels;

import io.entrollm.infer.VectorMath;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.GgmlDequant;

import java.lang.foreign.MemorySegment;

/**
 * GGML block types without a dedicated kernel (Q5_0, Q5_1 and the k-quants Q2_K..Q8_K) used as stored:
 * each row is dequantized by llama.cpp's reference formulas ({@link GgmlDequant}) into a per-thread
 * buffer, then multiplied against every token of the tile. Memory stays at the file's bits per weight;
 * the dequantization is paid once per row per tile, which is why these formats are slower than Q8_0/Q4_0
 * here (a fused kernel per format is future work, see docs/BENCHMARKS.md).
 */
public final class BlockRowLinear extends RowBlocked {
    private final MemorySegment data;
    private final DType dtype;
    private final int blocksPerRow;
    private final ThreadLocal<float[]> rowBuffer;

    public BlockRowLinear(MemorySegment data, DType dtype, int rows, int cols, int firstRow) {
        super(rows, cols, firstRow);
        if (!dtype.isBlockQuantized()) throw new IllegalArgumentException("BlockRowLinear takes GGML block types, not " + dtype);
        if (cols % dtype.blockElements() != 0) throw new IllegalArgumentException(dtype + " rows must be whole blocks of " + dtype.blockElements() + ", not " + cols);
        this.data = data;
        this.dtype = dtype;
        this.blocksPerRow = cols / dtype.blockElements();
        this.rowBuffer = ThreadLocal.withInitial(() -> new float[cols]);
    }

    @Override
    public long bytes() { return (long) rows * blocksPerRow * dtype.blockBytes(); }

    @Override
    void dotRow(int row, float[] x, Object prepared, int t0, int count, float[] dots) {
        float[] w = rowBuffer.get();
        row(row, w, 0);
        for (int k = 0; k < count; k++) dots[k] = VectorMath.dot(w, 0, x, (t0 + k) * cols, cols);
    }

    @Override
    public void row(int r, float[] out, int off) { GgmlDequant.row(dtype, data, firstRow + r, blocksPerRow, out, off); }
}
