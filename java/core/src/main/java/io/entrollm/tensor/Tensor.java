package io.entrollm.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One named tensor: its element type, its shape in row-major order (the last dimension varies
 * fastest, as in PyTorch and safetensors) and its bytes, usually a slice of a memory-mapped file.
 * The segment lives as long as the arena of the model that produced it.
 *
 * @param shape dimensions, outermost first; a copy is kept, and {@link #shape()} returns a copy
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    public Tensor {
        shape = shape.clone();
        long elements = elementCount(shape);
        long expected = dtype.byteSize(elements);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + expected + " bytes, got " + data.byteSize());
        }
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public long dim(int i) { return shape[i]; }

    public long elementCount() { return elementCount(shape); }

    public long byteSize() { return data.byteSize(); }

    /** The shape as {@code [256, 768]}. */
    public String shapeString() { return Arrays.toString(shape); }

    /** Number of elements of a shape, with overflow and sign checks. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The same bytes under another name (used when mapping between naming schemes). */
    public Tensor renamed(String newName) { return new Tensor(newName, dtype, shape, data); }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && t.data.byteSize() == data.byteSize() && t.data.mismatch(data) < 0;
    }

    @Override
    public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override
    public String toString() { return name + " " + dtype + " " + shapeString(); }
}
