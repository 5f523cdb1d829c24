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
import java.util.stream.IntStream;

/**
 * What a calibration text makes each decoder-layer matrix see: for every input column j of every
 * tensor, the mean of x_j^2 over the text's tokens. A weight error Δw_ij then costs about
 * Δw_ij^2 E[x_j^2] of squared output error, which is how {@link BitAllocation} compares layers.
 * The model runs on the CPU from its stored form, in windows of {@code window} tokens.
 */
public final class ActivationStats {
    private ActivationStats() {}

    /**
     * Runs {@code tokens} through {@code source} in windows of {@code window} tokens ({@code progress} gets
     * the tokens done) and returns what the layers saw: per tensor name the mean square of each input
     * column, and with {@code grams} also the mean of {@code x x^T} over the inputs (cols x cols, row-major;
     * {@link io.entrollm.quant.ErrorFeedback}'s H) for inputs of at most
     * {@link io.entrollm.quant.ErrorFeedback#MAX_COLUMNS} columns. Matrices that read the same input
     * (q/k/v, gate/up) share one array, computed once.
     */
    public static Inputs collectInputs(ModelSource source, int[] tokens, int window, int threads, IntConsumer progress, boolean grams) {
        if (tokens.length == 0) throw new IllegalArgumentException("the calibration text has no tokens");
        if (window < 1) throw new IllegalArgumentException("window must be positive");
        LlamaLayout layout = LlamaLayout.of(source);
        Map<String, String> site = new HashMap<>();      // tensor -> the first tensor reading the same input
        for (LlamaLayout.Layer n : layout.layers) {
            for (String t : new String[] {n.wq().tensor(), n.wk().tensor(), n.wv().tensor()}) site.putIfAbsent(t, n.wq().tensor());
            site.putIfAbsent(n.wo().tensor(), n.wo().tensor());
            for (String t : new String[] {n.wGate().tensor(), n.wUp().tensor()}) site.putIfAbsent(t, n.wGate().tensor());
            site.putIfAbsent(n.wDown().tensor(), n.wDown().tensor());
        }
        Map<String, Sums> sums = new HashMap<>();
        try (LlamaWeights weights = LlamaWeights.loadStored(source); Workers workers = Workers.of(threads)) {
            LlamaWeights observed = weights.viewLayerMatrices(layout, (name, linear) -> new Observed(linear, sums.computeIfAbsent(name,
                    n -> new Sums(linear.cols(), grams && n.equals(site.get(n)) && linear.cols() <= io.entrollm.quant.ErrorFeedback.MAX_COLUMNS))));
            LlamaCpu model = new LlamaCpu(observed, workers);
            for (int start = 0; start < tokens.length; start += window) {
                int[] part = java.util.Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + window));
                model.forward(part, 0, new KvCache(layout.config, part.length), 1);
                if (progress != null) progress.accept(start + part.length);
            }
        }
        Map<String, double[]> squares = new HashMap<>(), gram = new HashMap<>();
        for (Map.Entry<String, Sums> e : sums.entrySet()) {
            Sums s = e.getValue();
            double[] m = s.squares.clone();
            for (int j = 0; j < m.length; j++) m[j] /= Math.max(1, s.rows);
            squares.put(e.getKey(), m);
            if (s.gram != null) {
                for (int j = 0; j < s.gram.length; j++) s.gram[j] /= Math.max(1, s.rows);
            }
        }
        if (grams) {
            for (String name : sums.keySet()) {
                Sums own = sums.get(site.getOrDefault(name, name));
                if (own != null && own.gram != null) gram.put(name, own.gram);
            }
        }
        return new Inputs(squares, gram);
    }

    /**
     * @param meanSquares per tensor, the mean square of each input column
     * @param grams       per tensor, the mean of {@code x x^T} (empty unless asked for; absent for inputs too wide)
     */
    public record Inputs(Map<String, double[]> meanSquares, Map<String, double[]> grams) {}

    /** Sums of squares per input column (and of products of columns, where wanted), and the rows (token inputs) they came from. */
    private static final class Sums {
        final double[] squares;
        final double[] gram;
        long rows;

        Sums(int cols, boolean withGram) {
            squares = new double[cols];
            gram = withGram ? new double[cols * cols] : null;
        }

        /** Adds {@code x^T x} of a block of {@code tokens} inputs: the block transposed, then a dot product per pair of columns. */
        void addGram(float[] x, int tokens, int cols) {
            double[] t = new double[cols * tokens];
            for (int r = 0; r < tokens; r++) for (int j = 0; j < cols; j++) t[j * tokens + r] = x[r * cols + j];
            IntStream.range(0, cols).parallel().forEach(j -> {
                for (int k = j; k < cols; k++) {
                    double a = 0, b = 0;
                    int r = 0, pj = j * tokens, pk = k * tokens;
                    for (; r + 1 < tokens; r += 2) {
                        a += t[pj + r] * t[pk + r];
                        b += t[pj + r + 1] * t[pk + r + 1];
                    }
                    if (r < tokens) a += t[pj + r] * t[pk + r];
                    gram[j * cols + k] += a + b;
                    if (k != j) gram[k * cols + j] += a + b;
                }
            });
        }
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
                if (sums.gram != null) sums.addGram(x, tokens, cols);
                sums.rows += tokens;
            }
            inner.apply(x, tokens, bias, out, workers);
        }

        @Override public void row(int r, float[] out, int off) { inner.row(r, out, off); }

        @Override public long bytes() { return inner.bytes(); }
    }
}
