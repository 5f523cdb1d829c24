package io.entrollm.quant;

import java.util.function.UnaryOperator;

/**
 * Per-group scale (and zero point) chosen to minimise the group's squared reconstruction error instead of
 * spanning its whole range, in the manner of llama.cpp's k-quant quantizers: the range is shrunk by a few
 * percent at a time (so outliers are clipped when that lowers the error of the rest), and for the symbols
 * each candidate gives, the least-squares scale and zero are fitted ({@code min sum (w - (s*q + z))^2},
 * closed form) and tried too. The range-spanning parameters are the first candidate and win ties, so the
 * error is never worse than plain round-to-nearest. Every candidate passes through {@code param} (float16
 * rounding) before it is evaluated, so the chosen values are the ones stored. With column weights (a calibration
 * text's mean squared input per column, as llama.cpp's importance matrix) each weight's squared error counts as much
 * as the activations it multiplies, and the refits are weighted least squares.
 */
final class ScaleSearch {
    /** Range shrink fractions tried (of the group's range, from each end for ASYM). */
    private static final int STEPS = 16;
    private static final float STEP = 0.01f;

    private ScaleSearch() {}

    /**
     * {scale, zero} for {@code w[from, to)}; {@code plain} are the range-spanning ones (zero is 0 unless ASYM). {@code
     * weights}: null, or one per column of the matrix, whose rows are {@code cols} long; weight {@code i} is in column
     * {@code i % cols}.
     */
    static float[] best(AppliedScheme scheme, int bits, float[] w, int from, int to, float plainScale, float plainZero,
                        UnaryOperator<Float> param, double[] weights, int cols) {
        float bestS = plainScale, bestZ = plainZero;
        if (plainScale == 0) return new float[] {bestS, bestZ};
        Weighing m = new Weighing(weights, cols);
        double bestErr = error(scheme, bits, w, from, to, plainScale, plainZero, m);
        int levels = Quantizer.maxLevel(bits);
        float range = plainScale * levels;   // ASYM: the group's (rounded) max - min, which its candidates shrink from both ends
        for (int k = 0; k < STEPS; k++) {
            float s, z;
            if (k == 0) {
                s = plainScale;
                z = plainZero;
            } else if (scheme == AppliedScheme.ASYM) {
                float cut = k * STEP * range;
                s = param.apply((range - 2 * cut) / levels);
                z = param.apply(plainZero + cut);
            } else {
                s = param.apply(plainScale * (1 - k * STEP));
                z = 0;
            }
            if (s > 0) {
                double e = error(scheme, bits, w, from, to, s, z, m);
                if (e < bestErr) { bestErr = e; bestS = s; bestZ = z; }
                float[] fit = refit(scheme, bits, w, from, to, s, z, param, m);
                if (fit != null) {
                    double ef = error(scheme, bits, w, from, to, fit[0], fit[1], m);
                    if (ef < bestErr) { bestErr = ef; bestS = fit[0]; bestZ = fit[1]; }
                }
            }
        }
        return new float[] {bestS, bestZ};
    }

    /** Each weight's share of the error: 1, or its column's weight (the column counted along, as a modulo per weight is slow). */
    private record Weighing(double[] columns, int cols) {
        /** The column of element {@code from}. */
        int firstColumn(int from) { return columns == null ? 0 : from % cols; }

        double at(int column) { return columns == null ? 1 : columns[column]; }

        int next(int column) { return columns == null || ++column < cols ? column : 0; }
    }

    /** The (weighted) least-squares scale (and zero, ASYM) for the symbols that {@code (s, z)} gives; null if degenerate. */
    private static float[] refit(AppliedScheme scheme, int bits, float[] w, int from, int to, float s, float z, UnaryOperator<Float> param,
                                 Weighing m) {
        int half = Quantizer.symOffset(bits);
        double sq = 0, sw = 0, sqq = 0, sqw = 0, n = 0;
        for (int i = from, col = m.firstColumn(from); i < to; i++, col = m.next(col)) {
            int sym = Quantizer.symbol(scheme, bits, w[i], s, z);
            double q = scheme == AppliedScheme.SYM ? sym - half : sym;
            double x = scheme == AppliedScheme.UNSIGNED ? Math.abs(w[i]) : w[i];
            double c = m.at(col);
            sq += c * q; sw += c * x; sqq += c * q * q; sqw += c * q * x; n += c;
        }
        if (scheme == AppliedScheme.ASYM) {
            double var = n * sqq - sq * sq;
            if (!(var > 0)) return null;
            double fs = (n * sqw - sq * sw) / var, fz = (sw - fs * sq) / n;
            if (!(fs > 0) || !Double.isFinite(fz)) return null;
            return new float[] {param.apply((float) fs), param.apply((float) fz)};
        }
        if (sqq <= 0) return null;
        double fs = sqw / sqq;
        return fs > 0 ? new float[] {param.apply((float) fs), 0f} : null;
    }

    /** (Weighted) squared error of the group quantized with {@code (s, z)} and dequantized, in float64 of the float32 values. */
    private static double error(AppliedScheme scheme, int bits, float[] w, int from, int to, float s, float z, Weighing m) {
        double e = 0;
        for (int i = from, col = m.firstColumn(from); i < to; i++, col = m.next(col)) {
            int sym = Quantizer.symbol(scheme, bits, w[i], s, z);
            float back = Quantizer.dequantize(scheme, bits, sym, s, z, 1);
            double d = (scheme == AppliedScheme.UNSIGNED ? Math.abs(w[i]) : w[i]) - (double) back;
            e += d * d * m.at(col);
        }
        return e;
    }
}
