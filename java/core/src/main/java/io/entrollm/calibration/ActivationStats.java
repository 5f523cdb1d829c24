package io.entrollm.calibration;

import io.entrollm.infer.KvCache;
import io.entrollm.infer.Linear;
import io.entrollm.infer.LlamaCpu;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.infer.LlamaWeights;
import io.entrollm.infer.Workers;
import io.entrollm.model.ModelSource;

import java.util.HashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * What a calibration text makes each decoder-layer matrix see: for every input column j of every
 * tensor, the mean of x_j^2 over the text's tokens. A weight error Δw_ij then costs about
 * Δw_ij^2 E[x_j^2] of squared output error, which is how {@link BitAllocation} compares layers.
 * The model runs on the CPU from its stored form, in windows of {@code window} tokens.
 */
public final class ActivationStats {
    private ActivationStats() {}

    /**
     * Runs {@code tokens} through {@code source} in windows of {@code window} tokens and returns, per
     * layer tensor name, the mean square of each input column. {@code progress} gets the tokens done.
     */
    public static Map<String, double[]> collect(ModelSource source, int[] tokens, int window, int threads, IntConsumer progress) {
        if (tokens.length == 0) throw new IllegalArgumentException("the calibration text has no tokens");
        if (window < 1) throw new IllegalArgumentException("window must be positive");
        LlamaLayout layout = LlamaLayout.of(source);
        Map<String, Sums> sums = new HashMap<>();
        try (LlamaWeights weights = LlamaWeights.loadStored(source); Workers workers = Workers.of(threads)) {
            LlamaWeights observed = weights.viewLayerMatrices(layout, (name, linear) -> new Observed(linear, sums.computeIfAbsent(name, n -> new Sums(linear.cols()))));
            LlamaCpu model = new LlamaCpu(observed, workers);
            for (int start = 0; start < tokens.length; start += window) {
                int[] part = java.util.Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + window));
                model.forward(part, 0, new KvCache(layout.config, part.length), 1);
                if (progress != null) progress.accept(start + part.length);
            }
        }
        Map<String, double[]> out = new HashMap<>();
        for (Map.Entry<String, Sums> e : sums.entrySet()) {
            double[] m = e.getValue().squares.clone();
            for (int j = 0; j < m.length; j++) m[j] /= Math.max(1, e.getValue().rows);
            out.put(e.getKey(), m);
        }
        return out;
    }

    /** Sums of squares per input column, and the rows (token inputs) they came from. */
    private static final class Sums {
        final double[] squares;
        long rows;

        Sums(int cols) { squares = new double[cols]; }
    }

    /** A matrix that adds the squares of its inputs to {@link Sums} before computing. */
    private record Observed(Linear inner, Sums sums) implements Linear {
        @Override public int rows() { return inner.rows(); }

        @Override public int cols() { return inner.cols(); }

        @Override
        public void apply(float[] x, int tokens, float[] bias, float[] out, Workers workers) {
            int cols = inner.cols();
            synchronized (sums) {
                for (int t = 0; t < tokens; t++) {
                    for (int j = 0; j < cols; j++) {
                        double v = x[t * cols + j];
                        sums.squares[j] += v * v;
                    }
                }
                sums.rows += tokens;
            }
            inner.apply(x, tokens, bias, out, workers);
        }

        @Override public void row(int r, float[] out, int off) { inner.row(r, out, off); }

        @Override public long bytes() { return inner.bytes(); }
    }
}
