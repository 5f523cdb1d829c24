package io.entrollm.testing;

import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Synthetic tensors for edge-case tests. */
public final class Fixtures {
    private Fixtures() {}

    /** A JSON array of integers (token ids in reference files) as an int[]. */
    /** Relative L2 distance of {@code a} from {@code b}, in float64: how logits of two paths are compared. */
    public static double relL2(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    public static int[] ints(com.fasterxml.jackson.databind.JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    /** A tensor of {@code dtype} (a float type) filled with N(0, std) values from {@code seed}. */
    public static Tensor gaussian(String name, DType dtype, long[] shape, double std, long seed, Arena arena) {
        long n = Tensor.elementCount(shape);
        MemorySegment seg = arena.allocate(Math.max(1, dtype.byteSize(n)), 64).asSlice(0, dtype.byteSize(n));
        Random r = new Random(seed);
        for (long i = 0; i < n; i++) {
            float v = (float) (r.nextGaussian() * std);
            switch (dtype) {
                case F32 -> seg.set(TensorReader.F32, i * 4, v);
                case F16 -> seg.set(TensorReader.I16, i * 2, FloatBits.floatToF16(v));
                case BF16 -> seg.set(TensorReader.I16, i * 2, FloatBits.floatToBf16(v));
                case F64 -> seg.set(TensorReader.F64, i * 8, v);
                default -> throw new IllegalArgumentException("not a float type: " + dtype);
            }
        }
        return new Tensor(name, dtype, shape, seg);
    }

    /** A tensor of any dtype with pseudo-random bytes (for lossless round trips). */
    public static Tensor randomBytes(String name, DType dtype, long[] shape, long seed, Arena arena) {
        long bytes = dtype.byteSize(Tensor.elementCount(shape));
        MemorySegment seg = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
        Random r = new Random(seed);
        for (long i = 0; i < bytes; i++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        return new Tensor(name, dtype, shape, seg);
    }
}
