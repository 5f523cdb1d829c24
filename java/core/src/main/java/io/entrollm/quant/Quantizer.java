package io.entrollm.quant;

/**
 * The quantization formulas, in float32 arithmetic, exactly as docs/FORMAT.md states them. The
 * dequantization here is the reference every other decoder (the CUDA kernels included) must match
 * bit for bit.
 *
 * <p>Rounding is half away from zero ({@code roundf} in C), computed in float64 on the float32
 * quotient so that no intermediate rounding can move a value across a .5 boundary.
 */
public final class Quantizer {
    private Quantizer() {}

    /** Round half away from zero, the rule of C's {@code roundf}. */
    static float roundHalfAway(float x) {
        double d = x;
        return (float) (d >= 0 ? Math.floor(d + 0.5) : -Math.floor(-d + 0.5));
    }

    static int maxLevel(int bits) { return (1 << bits) - 1; }

    /** Offset added to signed symmetric values to make symbols non-negative: 2^(b-1) - 1. */
    public static int symOffset(int bits) { return (1 << (bits - 1)) - 1; }

    /**
     * Quantizes {@code w} (a rows x rowLength weight matrix, row-major) with {@code scheme} resolved
     * for this tensor. {@code AUTO} tries each candidate and keeps the lowest-MSE one.
     */
    public static QuantizedTensor quantize(String name, long[] shape, float[] w, int bits, QuantScheme scheme,
                                           Granularity granularity) {
        return quantize(name, shape, w, bits, scheme, granularity, false);
    }

    /**
     * As {@link #quantize(String, long[], float[], int, QuantScheme, Granularity)}; with {@code halfParams} every
     * scale and zero point is rounded to the nearest float16 before the symbols are computed from it, so the
     * symbols are the best for the parameters a file stores in f16.
     *
     * @throws IllegalArgumentException if a scale or zero point is beyond float16's range (65504)
     */
    public static QuantizedTensor quantize(String name, long[] shape, float[] w, int bits, QuantScheme scheme,
                                           Granularity granularity, boolean halfParams) {
        return quantize(name, shape, w, bits, scheme, granularity, halfParams, false);
    }

    /**
     * As above; with {@code searchScales} each group's scale (and zero) is the one of a small search that
     * minimises the group's squared error ({@link ScaleSearch}) rather than the one spanning its range.
     */
    public static QuantizedTensor quantize(String name, long[] shape, float[] w, int bits, QuantScheme scheme,
                                           Granularity granularity, boolean halfParams, boolean searchScales) {
        return quantize(name, shape, w, bits, scheme, granularity, halfParams, searchScales, null);
    }

    /**
     * As above; {@code columnWeights} (null, or one per column: a calibration text's mean squared input) weigh each
     * weight's squared error in the scale search, so the searched scales favour the columns the activations amplify.
     * The choice among schemes ({@code AUTO}) stays by plain error.
     */
    public static QuantizedTensor quantize(String name, long[] shape, float[] w, int bits, QuantScheme scheme,
                                           Granularity granularity, boolean halfParams, boolean searchScales, double[] columnWeights) {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("bits must be 2..8, is " + bits);
        if (shape.length != 2) throw new IllegalArgumentException("tensor '" + name + "': only 2-D weights are quantized");
        long groupSize = w.length == 0 ? 1 : granularity.weightsPerGroup(shape[0], shape[1], name);
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float v : w) {
            if (!Float.isFinite(v)) throw new IllegalArgumentException("tensor '" + name + "' holds a non-finite value " + v);
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        boolean singleSigned = w.length > 0 && (double) min * max >= 0;
        java.util.function.UnaryOperator<Float> param = halfParams ? v -> half(name, v) : v -> v;
        if (columnWeights != null && columnWeights.length != shape[1]) {
            throw new IllegalArgumentException("tensor '" + name + "': " + columnWeights.length + " column weights for " + shape[1] + " columns");
        }
        Params p = new Params(param, searchScales, searchScales ? columnWeights : null, (int) shape[1]);
        return switch (scheme) {
            case ASYM -> apply(name, shape, w, bits, AppliedScheme.ASYM, granularity, groupSize, 1, p);
            case SYM -> apply(name, shape, w, bits, AppliedScheme.SYM, granularity, groupSize, 1, p);
            case MIXED -> singleSigned
                    ? apply(name, shape, w, bits, AppliedScheme.UNSIGNED, granularity, groupSize, min < 0 ? -1 : 1, p)
                    : apply(name, shape, w, bits, AppliedScheme.ASYM, granularity, groupSize, 1, p);
            case AUTO -> {
                QuantizedTensor best = null;
                double bestMse = Double.POSITIVE_INFINITY;
                for (AppliedScheme s : AppliedScheme.values()) {
                    if (s == AppliedScheme.UNSIGNED && !singleSigned) continue;
                    QuantizedTensor q = apply(name, shape, w, bits, s, granularity, groupSize, min < 0 ? -1 : 1, p);
                    double mse = mse(w, q);
                    if (mse < bestMse) { best = q; bestMse = mse; }
                }
                yield best;
            }
        };
    }

    /** {@code v} rounded to float16 (to nearest, ties to even), which must hold it. */
    private static float half(String name, float v) {
        float h = Float.float16ToFloat(Float.floatToFloat16(v));
        if (Float.isInfinite(h)) throw new IllegalArgumentException("tensor '" + name + "': a scale or zero point of " + v + " does not fit float16; use f32 scales");
        return h;
    }

    /** How group parameters are chosen: rounded by {@code param} (float16 or not), searched (weighing errors by column) or range-spanning. */
    private record Params(java.util.function.UnaryOperator<Float> param, boolean search, double[] columnWeights, int cols) {}

    /**
     * The symbol of weight {@code w} in a group with scale {@code s} and zero {@code z} (ASYM), the formulas of
     * docs/FORMAT.md: round half away from zero, clamped to the symbol range; 0 when the scale is 0.
     */
    static int symbol(AppliedScheme scheme, int bits, float w, float s, float z) {
        if (s == 0) return scheme == AppliedScheme.SYM ? symOffset(bits) : 0;
        return switch (scheme) {
            case ASYM -> (int) clamp(roundHalfAway((w - z) / s), 0, maxLevel(bits));
            case SYM -> (int) clamp(roundHalfAway(w / s), -symOffset(bits), symOffset(bits)) + symOffset(bits);
            case UNSIGNED -> (int) clamp(roundHalfAway(Math.abs(w) / s), 0, maxLevel(bits));
        };
    }

    private static QuantizedTensor apply(String name, long[] shape, float[] w, int bits, AppliedScheme scheme,
                                         Granularity granularity, long groupSize, int sign, Params p) {
        java.util.function.UnaryOperator<Float> param = p.param();
        int groups = w.length == 0 ? 0 : (int) (w.length / groupSize);
        float[] scales = new float[groups];
        float[] zeros = scheme == AppliedScheme.ASYM ? new float[groups] : new float[0];
        byte[] symbols = new byte[w.length];
        int levels = maxLevel(bits), half = symOffset(bits);
        for (int g = 0; g < groups; g++) {
            int from = (int) (g * groupSize), to = (int) (from + groupSize);
            float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY, absMax = 0;
            for (int i = from; i < to; i++) {
                min = Math.min(min, w[i]);
                max = Math.max(max, w[i]);
                absMax = Math.max(absMax, Math.abs(w[i]));
            }
            // the range-spanning parameters (docs/FORMAT.md), rounded as stored
            float s = param.apply(switch (scheme) {
                case ASYM -> (max - min) / levels;
                case SYM -> absMax / half;
                case UNSIGNED -> absMax / levels;
            });
            float zero = scheme == AppliedScheme.ASYM ? param.apply(min) : 0f;
            if (p.search()) {
                float[] best = ScaleSearch.best(scheme, bits, w, from, to, s, zero, param, p.columnWeights(), p.cols());
                s = best[0];
                zero = best[1];
            }
            scales[g] = s;
            if (scheme == AppliedScheme.ASYM) zeros[g] = zero;
            for (int i = from; i < to; i++) symbols[i] = (byte) symbol(scheme, bits, w[i], s, zero);
        }
        return new QuantizedTensor(name, shape, bits, scheme, granularity, symbols, scales, zeros, sign, groupSize);
    }

    private static float clamp(float v, float lo, float hi) { return Math.max(lo, Math.min(hi, v)); }

    /** Dequantizes one symbol of group {@code g}; the reference formula (float32, no fused multiply-add). */
    public static float dequantize(AppliedScheme scheme, int bits, int symbol, float scale, float zero, int sign) {
        return switch (scheme) {
            case ASYM -> (float) symbol * scale + zero;
            case SYM -> (float) (symbol - symOffset(bits)) * scale;
            case UNSIGNED -> sign * ((float) symbol * scale);
        };
    }

    /** All weights of a quantized tensor, as float32. */
    public static float[] dequantize(QuantizedTensor q) {
        float[] out = new float[q.symbols().length];
        dequantizeInto(q.scheme(), q.bits(), q.symbols(), 0, out.length, q.scales(), q.zeros(), q.sign(), q.groupSize(), out);
        return out;
    }

    /** Dequantizes symbols [from, to) into {@code out[from..to)}; symbol i belongs to group i / groupSize. */
    public static void dequantizeInto(AppliedScheme scheme, int bits, byte[] symbols, int from, int to, float[] scales,
                                      float[] zeros, int sign, long groupSize, float[] out) {
        for (int i = from; i < to; i++) {
            int g = (int) (i / groupSize);
            out[i] = dequantize(scheme, bits, symbols[i] & 0xFF, scales[g], zeros.length > 0 ? zeros[g] : 0f, sign);
        }
    }

    /** Mean squared reconstruction error, in float64. */
    public static double mse(float[] w, QuantizedTensor q) {
        if (w.length == 0) return 0;
        float[] r = dequantize(q);
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            double d = (double) w[i] - r[i];
            sum += d * d;
        }
        return sum / w.length;
    }
}
