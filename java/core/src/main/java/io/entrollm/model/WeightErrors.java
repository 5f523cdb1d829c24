package io.entrollm.model;

import io.entrollm.format.FormatException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * How far a quantized model's weight matrices are from a reference's: per matrix the relative squared error
 * {@code sum (w - w')^2 / sum w^2} in float64, over each weight as the file's own reader dequantizes it (Hugging
 * Face names and row order, so a GGUF, a .entro file and the source compare tensor by tensor). A measure for
 * models whose perplexity means nothing (synthetic ones); every matrix of the reference counts, vectors (norms)
 * do not.
 */
public final class WeightErrors {
    /** One matrix: its name, its weight count, its squared error and the reference's squared norm. */
    public record Matrix(String name, long elements, double squaredError, double squaredNorm) {
        /** {@code squaredError / squaredNorm}; 0 for an all-zero reference matched exactly. */
        public double relative() { return squaredNorm == 0 ? (squaredError == 0 ? 0 : Double.POSITIVE_INFINITY) : squaredError / squaredNorm; }
    }

    /** Every matrix of the reference, in its order. */
    public record Report(List<Matrix> matrices) {
        public Report { matrices = List.copyOf(matrices); }

        /** The mean of the matrices' relative errors: each layer counts once, as each adds its relative error to the residual stream. */
        public double meanRelative() { return matrices.stream().mapToDouble(Matrix::relative).average().orElse(0); }

        /** All matrices' weights together: total squared error over total squared norm (the large tensors dominate). */
        public double pooledRelative() {
            double e = 0, n = 0;
            for (Matrix m : matrices) { e += m.squaredError; n += m.squaredNorm; }
            return n == 0 ? 0 : e / n;
        }

        /** The matrix with the largest relative error. */
        public Matrix worst() {
            return matrices.stream().max(Comparator.comparingDouble(Matrix::relative))
                    .orElseThrow(() -> new IllegalStateException("no matrices"));
        }
    }

    private WeightErrors() {}

    /**
     * Compares every rank-2 tensor of {@code reference} with the tensor of the same name in {@code other}; {@code
     * progress} hears the count done after each. A matrix missing from {@code other}, or of another shape, is a
     * {@link FormatException} naming {@code other}'s file and the tensor.
     */
    public static Report compare(ModelSource reference, ModelSource other, IntConsumer progress) {
        List<String> names = matrixNames(reference);
        List<Matrix> out = new ArrayList<>(names.size());
        for (String name : names) {
            long[] shape = reference.shape(name).orElseThrow();
            long[] theirs = other.shape(name).orElseThrow(() -> FormatException.forTensor(other.path(), name, "missing: the reference model has it"));
            if (!Arrays.equals(shape, theirs)) {
                throw FormatException.forTensor(other.path(), name, "shape " + Arrays.toString(theirs) + ", the reference's is "
                        + Arrays.toString(shape));
            }
            float[] want = reference.stored(name).dequantize(), got = other.stored(name).dequantize();
            out.add(measure(name, want, got));
            progress.accept(out.size());
        }
        return new Report(out);
    }

    /** The rank-2 tensors of {@code source}, from metadata. */
    public static List<String> matrixNames(ModelSource source) {
        return source.tensorNames().stream().filter(n -> source.shape(n).map(s -> s.length == 2).orElse(false)).toList();
    }

    /** One matrix's squared error and norm, in float64. */
    static Matrix measure(String name, float[] reference, float[] other) {
        if (reference.length != other.length) throw new IllegalArgumentException(name + ": " + other.length + " values against " + reference.length);
        double e = 0, n = 0;
        for (int i = 0; i < reference.length; i++) {
            double w = reference[i], d = w - other[i];
            e += d * d;
            n += w * w;
        }
        return new Matrix(name, reference.length, e, n);
    }
}
