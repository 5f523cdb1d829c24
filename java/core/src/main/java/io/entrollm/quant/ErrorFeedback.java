package io.entrollm.quant;

import java.util.stream.IntStream;

/**
 * Error feedback (the GPTQ method of Frantar et al., 2022): a weight matrix's columns are quantized in
 * order, and each column's rounding error is spread over the columns not yet quantized, in proportion to
 * how the layer's inputs correlate, so that the layer's outputs on those inputs move less than with
 * rounding each weight on its own.
 *
 * <p>With {@code H} the mean of {@code x x^T} over calibration inputs (plus a small damping on its
 * diagonal) and {@code U} the upper Cholesky factor of {@code H^-1}, weight {@code j} of a row is rounded,
 * and {@code err = (w_j - q_j) / U[j][j]} is subtracted, times {@code U[j][k]}, from every later weight
 * {@code k} of the row. Rows are independent. The scales and zero points stay those of the plain
 * quantization, so the file format is unchanged; only the symbols differ.
 */
public final class ErrorFeedback {
    /** GPTQ's default: 1% of the mean diagonal, so that H stays invertible where inputs are nearly dependent. */
    public static final double DEFAULT_DAMPING = 0.01;
    /** Inputs wider than this are not refined: H^-1 costs cols^3 and the rows cols^2 each. */
    public static final int MAX_COLUMNS = 4096;
    /** Rows sampled to compare the refined tensor with the plain one on the weighted error. */
    private static final int CHECKED_ROWS = 256;

    private ErrorFeedback() {}

    /**
     * The symbols of {@code q} (quantized from {@code w}, rows x cols) recomputed with error feedback under
     * {@code gram} (cols x cols, row-major: the mean of {@code x x^T} over the inputs the matrix sees).
     * Returns {@code q} itself where the method does not apply (unsigned scheme, inputs wider than
     * {@link #MAX_COLUMNS}, no input energy, a matrix H that is not positive definite) or where the result
     * would be worse on the weighted error {@code sum (w - q)^T H (w - q)} over a sample of rows.
     */
    public static QuantizedTensor refine(QuantizedTensor q, float[] w, double[] gram, double damping) {
        int rows = Math.toIntExact(q.shape()[0]), cols = Math.toIntExact(q.shape()[1]);
        if ((long) cols * cols != gram.length) throw new IllegalArgumentException("tensor '" + q.name() + "': input statistics of "
                + gram.length + " values for " + cols + " columns");
        if (q.scheme() == AppliedScheme.UNSIGNED || cols > MAX_COLUMNS || w.length == 0) return q;
        double[] u = feedbackFactor(gram, cols, damping);
        if (u == null) return q;
        byte[] symbols = new byte[w.length];
        IntStream.range(0, rows).parallel().forEach(r -> refineRow(q, w, u, r, cols, symbols));
        QuantizedTensor refined = new QuantizedTensor(q.name(), q.shape(), q.bits(), q.scheme(), q.granularity(), symbols,
                q.scales(), q.zeros(), q.sign(), q.groupSize());
        return weightedError(refined, w, gram, rows, cols) <= weightedError(q, w, gram, rows, cols) ? refined : q;
    }

    /** Row {@code r}: each weight rounded in turn, its error pushed onto the row's later weights. */
    private static void refineRow(QuantizedTensor q, float[] w, double[] u, int r, int cols, byte[] symbols) {
        double[] x = new double[cols];
        int base = r * cols;
        for (int j = 0; j < cols; j++) x[j] = w[base + j];
        float[] scales = q.scales(), zeros = q.zeros();
        for (int j = 0; j < cols; j++) {
            int g = (int) ((base + j) / q.groupSize());
            float scale = scales[g], zero = zeros.length > 0 ? zeros[g] : 0f;
            int symbol = Quantizer.symbol(q.scheme(), q.bits(), (float) x[j], scale, zero);
            symbols[base + j] = (byte) symbol;
            double err = (x[j] - Quantizer.dequantize(q.scheme(), q.bits(), symbol, scale, zero, q.sign())) / u[j * cols + j];
            for (int k = j + 1, row = j * cols; k < cols; k++) x[k] -= err * u[row + k];
        }
    }

    /**
     * U, upper triangular with {@code U^T U = (gram + damping * mean(diag) * I)^-1} (columns without input get
     * a diagonal of 1 first), or null when that matrix is not positive definite or has no diagonal at all.
     */
    static double[] feedbackFactor(double[] gram, int n, double damping) {
        double[] h = gram.clone();
        double mean = 0;
        for (int j = 0; j < n; j++) mean += h[j * n + j];
        mean /= n;
        if (!(mean > 0)) return null;
        for (int j = 0; j < n; j++) {
            if (h[j * n + j] == 0) h[j * n + j] = 1;      // an input that is always 0: its weight only needs rounding
            h[j * n + j] += damping * mean;
        }
        double[] l = cholesky(h, n);
        if (l == null) return null;
        double[] inverse = inverseFromCholesky(l, n);
        double[] lower = cholesky(inverse, n);
        if (lower == null) return null;
        double[] upper = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) upper[j * n + i] = lower[i * n + j];
        return upper;
    }

    /** Lower-triangular L with L L^T = a (row-major n x n), or null if a is not positive definite. */
    static double[] cholesky(double[] a, int n) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double sum = a[i * n + j];
                for (int k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
                if (i == j) {
                    if (!(sum > 0)) return null;
                    l[i * n + i] = Math.sqrt(sum);
                } else {
                    l[i * n + j] = sum / l[j * n + j];
                }
            }
        }
        return l;
    }

    /** (L L^T)^-1 = L^-T L^-1, from the Cholesky factor L. */
    private static double[] inverseFromCholesky(double[] l, int n) {
        double[] li = new double[n * n];                    // L^-1, lower triangular
        for (int i = 0; i < n; i++) {
            li[i * n + i] = 1 / l[i * n + i];
            for (int j = 0; j < i; j++) {
                double sum = 0;
                for (int k = j; k < i; k++) sum += l[i * n + k] * li[k * n + j];
                li[i * n + j] = -sum / l[i * n + i];
            }
        }
        double[] inv = new double[n * n];
        IntStream.range(0, n).parallel().forEach(i -> {
            for (int j = 0; j <= i; j++) {
                double sum = 0;
                for (int k = i; k < n; k++) sum += li[k * n + i] * li[k * n + j];
                inv[i * n + j] = sum;
                inv[j * n + i] = sum;
            }
        });
        return inv;
    }

    /** sum over sampled rows of (w - q)^T gram (w - q): the rows' output error on the calibration inputs. */
    static double weightedError(QuantizedTensor q, float[] w, double[] gram, int rows, int cols) {
        int step = Math.max(1, rows / CHECKED_ROWS);
        double total = 0;
        double[] e = new double[cols];
        for (int r = 0; r < rows; r += step) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                int g = (int) ((base + j) / q.groupSize());
                float zero = q.zeros().length > 0 ? q.zeros()[g] : 0f;
                e[j] = w[base + j] - Quantizer.dequantize(q.scheme(), q.bits(), q.symbols()[base + j] & 0xFF, q.scales()[g], zero, q.sign());
            }
            for (int j = 0; j < cols; j++) {
                double he = 0;
                for (int k = 0; k < cols; k++) he += gram[j * cols + k] * e[k];
                total += e[j] * he;
            }
        }
        return total;
    }
}
