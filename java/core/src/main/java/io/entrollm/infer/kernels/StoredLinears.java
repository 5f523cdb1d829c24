package io.entrollm.infer.kernels;

import io.entrollm.codec.SymbolPacking;
import io.entrollm.io.PageRelease;
import io.entrollm.infer.Linear;
import io.entrollm.model.StoredTensor;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Weight matrices computed from their stored form: f32/f16/bf16, GGML blocks and packed symbols as
 * stored (copied byte for byte from the mapped file into memory owned by {@code arena}, see
 * {@link #resident}), Huffman-coded symbols decoded once (on all cores) into packed form in that memory. A tensor shared by several views (fused q/k/v or
 * gate/up) is decoded once. What a kernel cannot take as stored (a dtype without a kernel, nibbles on
 * odd rows, GGML blocks across rows) becomes float32 or bytes in the arena.
 */
public final class StoredLinears {
    private final Arena arena;
    private final Map<String, Backing> backings = new HashMap<>();
    // decode buffers shared by every tensor (symbols, bitstream words): the heap holds one piece (see decoded)
    private byte[] scratch = new byte[0];
    private int[] words = new int[0];

    private final int pieceSymbols;

    /** @param arena a shared arena: the kernels read it from every worker, and loading writes it from all cores */
    public StoredLinears(Arena arena) { this(arena, PIECE_SYMBOLS); }

    /** With coded tensors decoded about {@code pieceSymbols} symbols at a time (tests use small pieces). */
    StoredLinears(Arena arena, int pieceSymbols) {
        this.arena = arena;
        this.pieceSymbols = pieceSymbols;
    }

    /** The form a tensor is computed from, shared by its row views. */
    private sealed interface Backing {
        Linear view(int rows, int firstRow);
    }

    private record Floats(MemorySegment data, DType dtype, int cols) implements Backing {
        public Linear view(int rows, int firstRow) { return new FloatLinear(data, dtype, rows, cols, firstRow); }
    }

    private record Blocks(MemorySegment data, DType dtype, int cols) implements Backing {
        public Linear view(int rows, int firstRow) {
            return GgmlLinear.takes(dtype) ? new GgmlLinear(data, dtype, rows, cols, firstRow) : new BlockRowLinear(data, dtype, rows, cols, firstRow);
        }
    }

    private record Symbols(MemorySegment data, boolean nibbles, int cols, StoredTensor.Quantized q, float[] scales, float[] zeros) implements Backing {
        public Linear view(int rows, int firstRow) {
            return new SymbolLinear(data, nibbles, rows, cols, firstRow, q.bits(), q.scheme(), q.sign(), q.groupSize(), scales, zeros);
        }
    }

    /** Rows [firstRow, firstRow + rows) of {@code tensor}, a 2-D {@code [out, in]} matrix. */
    public Linear of(StoredTensor tensor, long firstRow, long rows) {
        return view(tensor, firstRow, rows, true);
    }

    /**
     * As {@link #of}, for a matrix only ever read a row at a time (an untied embedding): kept in the
     * mapping, where only the rows a text uses are ever paged in; row reads recover from a fault.
     */
    public Linear rowsOf(StoredTensor tensor, long firstRow, long rows) {
        return view(tensor, firstRow, rows, false);
    }

    private Linear view(StoredTensor tensor, long firstRow, long rows, boolean resident) {
        long[] shape = tensor.shape();
        if (shape.length != 2) throw new IllegalArgumentException("tensor '" + tensor.name() + "' is not a matrix");
        int cols = Math.toIntExact(shape[1]);
        Backing b = backings.computeIfAbsent(tensor.name() + (resident ? "" : "#rows"), n -> backing(tensor, cols, resident));
        return b.view(Math.toIntExact(rows), Math.toIntExact(firstRow));
    }

    /**
     * {@code stored} in memory the arena owns, if it is a slice of a mapped file. The kernels read weights
     * with Vector API loads, and the JVM cannot recover from a fault in one of those: a model file
     * truncated by another process while mapped would abort the whole process (SIGBUS). Copying faults
     * recoverably (an InternalError the CLI reports with the file's name), and the copy costs no more
     * resident memory than the pages the kernels would have touched; the file's pages are let go after.
     */
    private MemorySegment resident(MemorySegment stored) {
        if (!stored.isMapped()) return stored;
        MemorySegment copy = arena.allocate(stored.byteSize(), 64);
        // a piece at a time, each piece's file pages let go once copied: the mapped pages and the copy of a large
        // tensor (a 200 MB embedding) are never resident together, so loading does not raise the peak
        for (long at = 0; at < stored.byteSize(); at += COPY_PIECE) {
            long n = Math.min(COPY_PIECE, stored.byteSize() - at);
            MemorySegment.copy(stored, at, copy, at, n);
            PageRelease.release(stored.asSlice(at, n));
        }
        return copy;
    }

    private static final long COPY_PIECE = 8L << 20;

    private Backing backing(StoredTensor tensor, int cols, boolean resident) {
        java.util.function.UnaryOperator<MemorySegment> place = resident ? this::resident : s -> s;
        return switch (tensor) {
            case StoredTensor.Raw r -> switch (r.tensor().dtype()) {
                case F32, F16, BF16 -> new Floats(place.apply(r.tensor().data()), r.tensor().dtype(), cols);
                default -> new Floats(floats(TensorReader.toFloats(r.tensor())), DType.F32, cols);
            };
            case StoredTensor.GgmlBlocks g -> cols % g.tensor().dtype().blockElements() == 0 ? new Blocks(place.apply(g.tensor().data()), g.tensor().dtype(), cols)
                    : new Floats(floats(g.dequantize()), DType.F32, cols);
            case StoredTensor.Packed p -> {
                boolean nibbles = p.bits() <= 4;
                yield nibbles && cols % 2 != 0 ? new Symbols(bytes(p.symbols(), Math.toIntExact(p.elementCount())), false, cols, p, p.scales(), p.zeros())
                        : new Symbols(place.apply(p.packed()), nibbles, cols, p, p.scales(), p.zeros());
            }
            case StoredTensor.Coded c -> {
                boolean nibbles = c.bits() <= 4 && cols % 2 == 0;
                MemorySegment packed = decoded(c, nibbles);
                PageRelease.release(c.bitstream());
                yield new Symbols(packed, nibbles, cols, c, c.scales(), c.zeros());
            }
        };
    }

    /**
     * A coded tensor decoded once (on all cores) into packed symbols in the arena, a piece of chunks at a time
     * through buffers shared by every tensor: the heap holds one piece, not the largest tensor's symbols.
     */
    private MemorySegment decoded(StoredTensor.Coded c, boolean nibbles) {
        long n = c.elementCount();
        MemorySegment packed = arena.allocate(Math.max(1, nibbles ? (n + 1) / 2 : n), 64);
        // an even number of chunks per piece, so every piece but the last starts on a whole byte of nibbles
        int perPiece = Math.max(2, (pieceSymbols / c.chunkSymbols()) & ~1);
        for (int first = 0; first < c.chunks(); first += perPiece) {
            int end = Math.min(c.chunks(), first + perPiece);
            long from = (long) first * c.chunkSymbols();
            int count = Math.toIntExact(Math.min(n, (long) end * c.chunkSymbols()) - from);
            if (scratch.length < count) scratch = new byte[count];
            int need = c.chunkWords(first, end);
            if (words.length < need) words = new int[need];
            c.decodeChunks(first, end, scratch, words);
            if (nibbles) packNibbles(scratch, count, packed, from / 2);
            else MemorySegment.copy(scratch, 0, packed, ValueLayout.JAVA_BYTE, from, count);
        }
        return packed;
    }

    // symbols per decoded piece: small next to a layer's matrices, enough chunks for every core
    private static final int PIECE_SYMBOLS = 4 << 20;

    private MemorySegment floats(float[] values) {
        MemorySegment m = arena.allocate(4L * values.length, 64);
        MemorySegment.copy(values, 0, m, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        return m;
    }

    private MemorySegment bytes(byte[] values, int n) {
        MemorySegment m = arena.allocate(Math.max(1, n), 64);
        MemorySegment.copy(values, 0, m, ValueLayout.JAVA_BYTE, 0, n);
        return m;
    }

    /**
     * {@code symbols[0, n)} two per byte, low nibble first, into {@code out} from byte {@code at}: on all cores,
     * eight symbols a step (one long in, one int out). Serial and a byte at a time it was a third of the
     * decode-once time of a 1.7 B model.
     */
    static void packNibbles(byte[] symbols, int n, MemorySegment out, long at) {
        int pieces = Math.max(1, n >>> 16);
        IntStream.range(0, pieces).parallel().forEach(p -> {
            // pieces start at multiples of 8 symbols, so no byte takes its nibbles from two pieces
            int from = (int) ((long) n * p / pieces) & ~7, to = p + 1 == pieces ? n : (int) ((long) n * (p + 1) / pieces) & ~7;
            int i = from;
            for (; i + 8 <= to; i += 8) {
                long y = (long) LONG_LE.get(symbols, i) & 0x0F0F0F0F0F0F0F0FL;
                long z = y | y >>> 4;                   // byte 2k: symbol 2k | symbol 2k+1 << 4
                out.set(INT_LE, at + (i >> 1), (int) (z & 0xFF | z >>> 8 & 0xFF00 | z >>> 16 & 0xFF0000 | z >>> 24 & 0xFF000000L));
            }
            for (; i + 1 < to; i += 2) out.set(ValueLayout.JAVA_BYTE, at + (i >> 1), (byte) ((symbols[i] & 0x0F) | (symbols[i + 1] & 0x0F) << 4));
            if (i < to) out.set(ValueLayout.JAVA_BYTE, at + (i >> 1), (byte) (symbols[i] & 0x0F));
        });
    }

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
}
