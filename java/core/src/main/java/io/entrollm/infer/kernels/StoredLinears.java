package io.entrollm.infer.kernels;

import io.entrollm.codec.SymbolPacking;
import io.entrollm.infer.Linear;
import io.entrollm.model.StoredTensor;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Weight matrices computed from their stored form: f32/f16/bf16 and GGML blocks in place (slices of the
 * mapped file), packed symbols in place, Huffman-coded symbols decoded once (on all cores) into packed
 * form in off-heap memory owned by {@code arena}. A tensor shared by several views (fused q/k/v or
 * gate/up) is decoded once. What a kernel cannot take as stored (a dtype without a kernel, nibbles on
 * odd rows, GGML blocks across rows) becomes float32 or bytes in the arena.
 */
public final class StoredLinears {
    private final Arena arena;
    private final Map<String, Backing> backings = new HashMap<>();

    public StoredLinears(Arena arena) { this.arena = arena; }

    /** The form a tensor is computed from, shared by its row views. */
    private sealed interface Backing {
        Linear view(int rows, int firstRow);
    }

    private record Floats(MemorySegment data, DType dtype, int cols) implements Backing {
        public Linear view(int rows, int firstRow) { return new FloatLinear(data, dtype, rows, cols, firstRow); }
    }

    private record Blocks(MemorySegment data, DType dtype, int cols) implements Backing {
        public Linear view(int rows, int firstRow) { return new GgmlLinear(data, dtype, rows, cols, firstRow); }
    }

    private record Symbols(MemorySegment data, boolean nibbles, int cols, StoredTensor.Quantized q, float[] scales, float[] zeros) implements Backing {
        public Linear view(int rows, int firstRow) {
            return new SymbolLinear(data, nibbles, rows, cols, firstRow, q.bits(), q.scheme(), q.sign(), q.groupSize(), scales, zeros);
        }
    }

    /** Rows [firstRow, firstRow + rows) of {@code tensor}, a 2-D {@code [out, in]} matrix. */
    public Linear of(StoredTensor tensor, long firstRow, long rows) {
        long[] shape = tensor.shape();
        if (shape.length != 2) throw new IllegalArgumentException("tensor '" + tensor.name() + "' is not a matrix");
        int cols = Math.toIntExact(shape[1]);
        Backing b = backings.computeIfAbsent(tensor.name(), n -> backing(tensor, cols));
        return b.view(Math.toIntExact(rows), Math.toIntExact(firstRow));
    }

    private Backing backing(StoredTensor tensor, int cols) {
        return switch (tensor) {
            case StoredTensor.Raw r -> switch (r.tensor().dtype()) {
                case F32, F16, BF16 -> new Floats(r.tensor().data(), r.tensor().dtype(), cols);
                default -> new Floats(floats(TensorReader.toFloats(r.tensor())), DType.F32, cols);
            };
            case StoredTensor.GgmlBlocks g -> cols % 32 == 0 ? new Blocks(g.tensor().data(), g.tensor().dtype(), cols)
                    : new Floats(floats(g.dequantize()), DType.F32, cols);
            case StoredTensor.Packed p -> {
                boolean nibbles = p.bits() <= 4;
                yield nibbles && cols % 2 != 0 ? new Symbols(bytes(p.symbols()), false, cols, p, p.scales(), p.zeros())
                        : new Symbols(p.packed(), nibbles, cols, p, p.scales(), p.zeros());
            }
            case StoredTensor.Coded c -> {
                byte[] symbols = c.symbols();   // decoded once, on all cores
                boolean nibbles = c.bits() <= 4 && cols % 2 == 0;
                yield new Symbols(bytes(nibbles ? SymbolPacking.pack(symbols, c.bits()) : symbols), nibbles, cols, c, c.scales(), c.zeros());
            }
        };
    }

    private MemorySegment floats(float[] values) {
        MemorySegment m = arena.allocate(4L * values.length, 64);
        MemorySegment.copy(values, 0, m, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        return m;
    }

    private MemorySegment bytes(byte[] values) {
        MemorySegment m = arena.allocate(values.length, 64);
        MemorySegment.copy(values, 0, m, ValueLayout.JAVA_BYTE, 0, values.length);
        return m;
    }
}
