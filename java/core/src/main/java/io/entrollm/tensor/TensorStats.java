package io.entrollm.tensor;

/** Summary statistics of a tensor's values, computed in float64 over all elements. */
public record TensorStats(double min, double max, double mean, double std) {

    public static TensorStats of(Tensor t) {
        if (t.elementCount() == 0) return new TensorStats(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        return of(TensorReader.toFloats(t));
    }

    public static TensorStats of(float[] values) {
        if (values.length == 0) return new TensorStats(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        double mean = sum / values.length, squares = 0;
        for (float v : values) {
            double d = v - mean;
            squares += d * d;
        }
        return new TensorStats(min, max, mean, Math.sqrt(squares / values.length));
    }
}
