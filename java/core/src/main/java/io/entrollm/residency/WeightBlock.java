package io.entrollm.residency;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.model.ModelSource;
import io.entrollm.model.StoredTensor;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One decoder layer's weights in their stored form, laid out as one contiguous block: what the
 * COMPRESSED mode keeps on the GPU per layer, and what the STREAMED mode copies from pinned host
 * memory to the GPU in one transfer per layer. Every piece starts at a multiple of {@link #ALIGN}
 * bytes (the kernels read u32/u64 words; 256 keeps every piece on its own cache lines); the gaps are
 * zero. A Huffman-coded tensor brings its bitstream, chunk index, decode table (built here from the
 * codebook, so the GPU never sees the codebook) and scales; a packed one its packed symbols and
 * scales; an unquantized one (norms, biases, or every tensor of a bf16 model) its bytes as stored when
 * they are f32/f16/bf16, else float32 converted on the host.
 *
 * <p>Piece contents are produced lazily, so sizing a block (for the residency plan) reads nothing but
 * metadata.
 *
 * @param layer   the decoder layer
 * @param tensors its tensors, in layout order
 * @param bytes   the block's size, a multiple of {@link #ALIGN}
 */
public record WeightBlock(int layer, List<Stored> tensors, long bytes) {
    public static final int ALIGN = 256;

    public enum PieceKind { BITSTREAM, CHUNK_INDEX, DECODE_TABLE, PARAMS, PACKED, RAW }

    /** {@code bytes} bytes at {@code offset} in the block, produced by {@code content} when copied. */
    public record Piece(PieceKind kind, long offset, long bytes, Supplier<MemorySegment> content) {}

    /**
     * One tensor in the block.
     *
     * <p>On the GPU a tensor is computed from its <em>form</em>: packed symbols with float32 scales for a
     * quantized tensor (two a byte for 2..4 bits, see {@link #nibbles()}), the stored f32/f16/bf16 values
     * for an unquantized matrix, float32 for a vector (norms and biases, which the element-wise kernels
     * read). A Huffman-coded tensor's form is its decoded symbols; a packed or unquantized one's form is
     * its stored bytes.
     *
     * @param rank      the tensor's number of dimensions (1 for norms and biases)
     * @param quantized its stored form when quantized (coded or packed), else null
     * @param rawDtype  for an unquantized tensor, the dtype of its RAW piece (F32, F16 or BF16), else null
     * @param tableBits for a coded tensor, the decode table's index width, else 0
     */
    public record Stored(String name, long elements, int rank, StoredTensor.Quantized quantized, DType rawDtype, int tableBits, List<Piece> pieces) {
        public Piece piece(PieceKind kind) {
            return pieces.stream().filter(p -> p.kind() == kind).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("tensor '" + name + "' has no " + kind + " piece"));
        }

        /**
         * Whether its symbols lie two a byte in its form: a packed tensor of 2..4 bits always; a coded one
         * when its chunks start on whole bytes too (an even chunk size), else one symbol a byte.
         */
        public boolean nibbles() {
            return switch (quantized) {
                case null -> false;
                case StoredTensor.Packed p -> p.bits() <= 4;
                case StoredTensor.Coded c -> c.bits() <= 4 && c.chunkSymbols() % 2 == 0;
            };
        }

        /** Bytes of its symbols in its form (quantized tensors). */
        public long symbolBytes() { return nibbles() ? (elements + 1) / 2 : elements; }

        /** Bytes of its float32 scales and zeros (quantized tensors). */
        public long paramsBytes() { return piece(PieceKind.PARAMS).bytes(); }

        /** Whether it is a vector the element-wise kernels read as float32. */
        public boolean vector() { return quantized == null && rank < 2; }

        /**
         * GPU bytes of its form: symbols (aligned) then scales and zeros, the stored matrix, or a float32 vector.
         */
        public long formBytes() {
            if (quantized != null) return align(symbolBytes()) + paramsBytes();
            return vector() ? 4 * elements : piece(PieceKind.RAW).bytes();
        }

        /**
         * GPU bytes of its form that must be produced from its block when the block itself stays in GPU
         * memory (the compressed mode): a coded tensor's symbols and a vector not stored as float32; the
         * rest is read in place.
         */
        public long residentScratchBytes() {
            if (quantized instanceof StoredTensor.Coded) return symbolBytes();
            return vector() && rawDtype != DType.F32 ? 4 * elements : 0;
        }
    }

    /** GPU bytes of every tensor's form ({@link Stored#formBytes()}): what the decoded mode holds for this block. */
    public long formBytes() { return tensors.stream().mapToLong(Stored::formBytes).sum(); }

    /** The weights of every decoder layer of {@code source} (Hugging Face names), one block per layer. */
    public static List<WeightBlock> layers(ModelSource source, LlamaLayout layout) {
        List<WeightBlock> out = new ArrayList<>();
        for (int l = 0; l < layout.layers.length; l++) out.add(of(source, l, tensorNames(layout.layers[l])));
        return out;
    }

    /** The distinct tensors a layer reads (a fused tensor once), in layout order. */
    public static List<String> tensorNames(LlamaLayout.Layer L) {
        Set<String> names = new LinkedHashSet<>();
        for (LlamaLayout.WeightRef r : new LlamaLayout.WeightRef[] {L.attnNorm(), L.wq(), L.bq(), L.wk(), L.bk(), L.wv(), L.bv(), L.wo(),
                L.bo(), L.ffnNorm(), L.wGate(), L.wUp(), L.wDown()}) {
            if (r != null) names.add(r.tensor());
        }
        return List.copyOf(names);
    }

    /** A block holding {@code names} of {@code source}, each in its stored form. */
    public static WeightBlock of(ModelSource source, int layer, List<String> names) {
        List<StoredTensor> tensors = new ArrayList<>();
        for (String name : names) tensors.add(source.stored(name));
        return of(layer, tensors);
    }

    /** A block holding {@code tensors} in their stored form. */
    public static WeightBlock of(int layer, List<? extends StoredTensor> tensors) {
        Layout lay = new Layout();
        List<Stored> stored = new ArrayList<>();
        for (StoredTensor t : tensors) stored.add(stored(t, lay));
        return new WeightBlock(layer, List.copyOf(stored), lay.end);
    }

    private static Stored stored(StoredTensor t, Layout lay) {
        return switch (t) {
            case StoredTensor.Coded c -> coded(c, lay);
            case StoredTensor.Packed p -> new Stored(p.name(), p.elementCount(), p.shape().length, p, null, 0, List.of(
                    lay.add(PieceKind.PACKED, p.packed().byteSize(), p::packed),
                    lay.add(PieceKind.PARAMS, paramsF32Bytes(p), p::paramsF32)));
            case StoredTensor.Raw r -> raw(r.name(), r.elementCount(), r.shape().length, r.tensor().dtype(), r::tensor, lay);
            case StoredTensor.GgmlBlocks g -> raw(g.name(), g.elementCount(), g.shape().length, g.tensor().dtype(), g::tensor, lay);
        };
    }

    /** The GPU kernels read float32 scales and zero points: f16 ones are widened on the host. */
    private static long paramsF32Bytes(StoredTensor.Quantized q) {
        return q.paramsDtype() == DType.F32 ? q.params().byteSize() : 2 * q.params().byteSize();
    }

    private static Stored coded(StoredTensor.Coded c, Layout lay) {
        HuffmanCodebook codebook = c.codebook();
        int tableBits = Math.max(1, codebook.maxLength());
        List<Piece> pieces = List.of(
                lay.add(PieceKind.BITSTREAM, c.bitstream().byteSize(), c::bitstream),
                lay.add(PieceKind.CHUNK_INDEX, c.chunkIndex().byteSize(), c::chunkIndex),
                lay.add(PieceKind.DECODE_TABLE, 2L << tableBits, () -> decodeTable(codebook, tableBits)),
                lay.add(PieceKind.PARAMS, paramsF32Bytes(c), c::paramsF32));
        return new Stored(c.name(), c.elementCount(), c.shape().length, c, null, tableBits, pieces);
    }

    /** f32/f16/bf16 as stored (the GPU widens them); anything else (GGUF block types) as float32 converted here. */
    private static Stored raw(String name, long elements, int rank, DType dtype, Supplier<Tensor> tensor, Layout lay) {
        boolean asStored = dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16;
        DType pieceType = asStored ? dtype : DType.F32;
        Supplier<MemorySegment> content = asStored ? () -> tensor.get().data() : () -> MemorySegment.ofArray(TensorReader.toFloats(tensor.get()));
        return new Stored(name, elements, rank, null, pieceType, 0, List.of(lay.add(PieceKind.RAW, pieceType.byteSize(elements), content)));
    }

    private static MemorySegment decodeTable(HuffmanCodebook codebook, int tableBits) {
        short[] t = codebook.decodeTable(tableBits);
        MemorySegment out = MemorySegment.ofArray(new byte[t.length * 2]);
        for (int i = 0; i < t.length; i++) out.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, t[i]);
        return out;
    }

    /** Copies every piece to its offset in {@code block} (at least {@link #bytes} long) and zeroes the gaps. */
    public void copyTo(MemorySegment block) {
        if (block.byteSize() < bytes) throw new IllegalArgumentException("a block of " + bytes + " bytes does not fit " + block.byteSize());
        long at = 0;
        for (Stored s : tensors) {
            for (Piece p : s.pieces()) {
                block.asSlice(at, p.offset() - at).fill((byte) 0);
                MemorySegment src = p.content().get();
                if (src.byteSize() != p.bytes()) {
                    throw new IllegalStateException("tensor '" + s.name() + "': " + p.kind() + " has " + src.byteSize() + " bytes, planned " + p.bytes());
                }
                MemorySegment.copy(src, 0, block, p.offset(), p.bytes());
                at = p.offset() + p.bytes();
            }
        }
        block.asSlice(at, bytes - at).fill((byte) 0);
    }

    /** Hands out aligned offsets. */
    private static final class Layout {
        long end;

        Piece add(PieceKind kind, long bytes, Supplier<MemorySegment> content) {
            Piece p = new Piece(kind, end, bytes, content);
            end = align(end + bytes);
            return p;
        }
    }

    public static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }
}
