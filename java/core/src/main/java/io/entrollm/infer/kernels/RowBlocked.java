package io.entrollm.infer.kernels;

import io.entrollm.infer.Linear;
import io.entrollm.infer.Workers;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The parallel structure all stored-form kernels share: output rows in blocks spread over the workers;
 * per row, tokens in tiles of {@link Lanes#TILE}, so each weight is loaded and converted once per tile.
 * A kernel supplies {@link #prepare} (per-call work on the activations: group sums, de-interleaving) and
 * {@link #dotRow} (one row against a tile of tokens).
 */
abstract class RowBlocked implements Linear {
    protected final int rows, cols;
    /** First row of the stored tensor this view starts at (fused q/k/v and gate/up tensors are split by rows). */
    protected final int firstRow;

    RowBlocked(int rows, int cols, int firstRow) {
        this.rows = rows;
        this.cols = cols;
        this.firstRow = firstRow;
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    /** Per-call data derived from the activations, shared read-only by all rows; null if none. */
    Object prepare(float[] x, int tokens) { return null; }

    /** {@code dots[k] = sum_i x[(t0 + k) * cols + i] * W[row][i]} for {@code k < count} ({@code row} relative to the view). */
    abstract void dotRow(int row, float[] x, Object prepared, int t0, int count, float[] dots);

    @Override
    public void apply(float[] x, int tokens, float[] bias, float[] out, Workers workers) {
        if (x.length < (long) tokens * cols || out.length < (long) tokens * rows) throw new IllegalArgumentException("activation arrays too small");
        Object prepared = prepare(x, tokens);
        int blocks = Math.max(1, Math.min(rows / 16, 256));
        workers.forEach(blocks, b -> {
            int from = (int) ((long) rows * b / blocks), to = (int) ((long) rows * (b + 1) / blocks);
            float[] dots = new float[Lanes.TILE];
            for (int o = from; o < to; o++) {
                float bo = bias == null ? 0f : bias[o];
                for (int t0 = 0; t0 < tokens; t0 += Lanes.TILE) {
                    int count = Math.min(Lanes.TILE, tokens - t0);
                    dotRow(o, x, prepared, t0, count, dots);
                    for (int k = 0; k < count; k++) out[(t0 + k) * rows + o] = dots[k] + bo;
                }
            }
        });
    }

    /** {@code dots[k] +=} the lane sum of token k's accumulator, for the {@code count} tokens of a tile. */
    static void addLanes(float[] dots, int count, FloatVector acc0, FloatVector acc1, FloatVector acc2, FloatVector acc3) {
        dots[0] += acc0.reduceLanes(VectorOperators.ADD);
        if (count > 1) dots[1] += acc1.reduceLanes(VectorOperators.ADD);
        if (count > 2) dots[2] += acc2.reduceLanes(VectorOperators.ADD);
        if (count > 3) dots[3] += acc3.reduceLanes(VectorOperators.ADD);
    }
}
