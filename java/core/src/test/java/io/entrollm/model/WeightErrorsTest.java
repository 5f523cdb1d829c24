package io.entrollm.model;

import io.entrollm.format.FormatException;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link WeightErrors}: per-matrix relative squared errors in float64, their mean and pooled forms, and what it refuses. */
class WeightErrorsTest {

    /** A model held in memory: named f32 tensors of given shapes. */
    private record Memory(Path path, List<Tensor> tensors) implements ModelSource {
        @Override public String formatDescription() { return "memory"; }
        @Override public Optional<ModelConfig> config() { return Optional.empty(); }
        @Override public Optional<String> tokenizerJson() { return Optional.empty(); }
        @Override public void close() {}
    }

    private static Tensor f32(String name, float[] values, long... shape) {
        return new Tensor(name, DType.F32, shape, MemorySegment.ofArray(values));
    }

    private static float[] randoms(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    @Test
    void relativeErrorsPerMatrixThenTheirMeanAndThePooledRatio() {
        Random r = new Random(7);
        float[] a = randoms(r, 12, 1), b = randoms(r, 8, 3), norm = randoms(r, 4, 1);
        float[] a2 = a.clone(), b2 = b.clone(), norm2 = norm.clone();
        a2[3] += 0.5f;                       // one weight of a off by 0.5
        for (int i = 0; i < b2.length; i++) b2[i] *= 1.1f;   // all of b 10% too large
        norm2[0] = 100;                      // a vector: not counted
        Memory ref = new Memory(Path.of("ref"), List.of(f32("a", a, 3, 4), f32("norm", norm, 4), f32("b", b, 2, 4)));
        Memory got = new Memory(Path.of("got"), List.of(f32("b", b2, 2, 4), f32("a", a2, 3, 4), f32("norm", norm2, 4)));
        List<Integer> progress = new ArrayList<>();
        WeightErrors.Report report = WeightErrors.compare(ref, got, progress::add);

        double aNorm = 0, bNorm = 0, bErr = 0;
        for (float v : a) aNorm += (double) v * v;
        for (int i = 0; i < b.length; i++) {
            bNorm += (double) b[i] * b[i];
            double d = (double) b[i] - b2[i];
            bErr += d * d;
        }
        double aErr = Math.pow((double) a2[3] - a[3], 2);
        assertEquals(List.of("a", "b"), report.matrices().stream().map(WeightErrors.Matrix::name).toList());
        assertEquals(List.of(1, 2), progress);
        assertEquals(aErr / aNorm, report.matrices().get(0).relative(), 1e-15);
        assertEquals(0.01, report.matrices().get(1).relative(), 1e-6);   // (1.1 - 1)^2, up to float rounding of b2
        assertEquals((aErr / aNorm + bErr / bNorm) / 2, report.meanRelative(), 1e-15);
        assertEquals((aErr + bErr) / (aNorm + bNorm), report.pooledRelative(), 1e-15);
        assertEquals(aErr / aNorm > bErr / bNorm ? "a" : "b", report.worst().name());
        assertEquals(0, WeightErrors.compare(ref, ref, k -> {}).meanRelative());
    }

    @Test
    void aMissingOrReshapedMatrixNamesTheFileAndTensor() {
        float[] v = new float[6];
        Memory ref = new Memory(Path.of("ref"), List.of(f32("w", v, 2, 3)));
        FormatException missing = assertThrows(FormatException.class,
                () -> WeightErrors.compare(ref, new Memory(Path.of("other.gguf"), List.of()), k -> {}));
        assertThat(missing.getMessage()).contains("other.gguf").contains("w").contains("missing");
        FormatException reshaped = assertThrows(FormatException.class,
                () -> WeightErrors.compare(ref, new Memory(Path.of("other.gguf"), List.of(f32("w", v, 3, 2))), k -> {}));
        assertThat(reshaped.getMessage()).contains("other.gguf").contains("[3, 2]").contains("[2, 3]");
    }

    @Test
    void anAllZeroReferenceCountsZeroOnlyWhenMatched() {
        assertEquals(0, new WeightErrors.Matrix("z", 4, 0, 0).relative());
        assertEquals(Double.POSITIVE_INFINITY, new WeightErrors.Matrix("z", 4, 1, 0).relative());
    }
}
