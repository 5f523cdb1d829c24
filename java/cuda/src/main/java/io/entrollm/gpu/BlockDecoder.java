package io.entrollm.gpu;

import io.entrollm.model.StoredTensor;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.residency.WeightBlock;

/**
 * Decodes the tensors of a {@link WeightBlock} that lies in GPU memory (uploaded at load, resident in
 * the compressed mode, or a staging buffer in the streamed mode): Huffman-coded tensors through the
 * Huffman kernel, packed ones through the unpack kernel (both to any {@link OutputType} they offer),
 * unquantized ones widened or copied to float32. Every launch is asynchronous on the given stream; a
 * corrupt chunk sets the tensor's error word, which the caller reads after synchronising
 * ({@link ErrorWords}), once per forward pass in the per-layer modes.
 */
final class BlockDecoder {
    private final HuffmanDecodeLauncher huffman;
    private final PackedDecodeLauncher packed;
    private final WidenLauncher widen;

    BlockDecoder(CudaContext ctx) {
        this.huffman = new HuffmanDecodeLauncher(ctx);
        this.packed = new PackedDecodeLauncher(ctx);
        this.widen = new WidenLauncher(ctx);
    }

    /** The Huffman kernel's parameters for coded tensor {@code s} of a block at device address {@code base}. */
    static DecodeParams huffmanParams(WeightBlock.Stored s, StoredTensor.Coded e, long base, long errorWord) {
        long scales = base + s.piece(WeightBlock.PieceKind.PARAMS).offset();
        long zeros = e.scheme() == AppliedScheme.ASYM ? scales + e.groups() * 4 : scales;
        return new DecodeParams(base + s.piece(WeightBlock.PieceKind.BITSTREAM).offset(), base + s.piece(WeightBlock.PieceKind.CHUNK_INDEX).offset(),
                base + s.piece(WeightBlock.PieceKind.DECODE_TABLE).offset(), scales, zeros, e.totalBits(), e.elementCount(), e.groupSize(),
                e.chunkSymbols(), e.chunks(), s.tableBits(), e.bits(), e.scheme().id(), e.sign(), errorWord);
    }

    /**
     * Plans the float32 decode of every tensor of {@code block}, lying at {@code bytes}: one batched
     * Huffman launch for its coded tensors (their chunks run concurrently), one launch per packed or
     * unquantized tensor. Addresses are fixed at planning, so a layer's decode costs no host work
     * beyond the launches.
     *
     * @param errorWord device address of the error word of the block's i-th tensor
     * @param out       each tensor's float32 output
     */
    LayerDecode plan(WeightBlock block, DeviceSlice bytes, java.util.function.IntToLongFunction errorWord,
                     java.util.function.Function<WeightBlock.Stored, DeviceBuffer> out) {
        java.util.List<DecodeParams> coded = new java.util.ArrayList<>();
        java.util.List<Long> codedOut = new java.util.ArrayList<>();
        java.util.List<java.util.function.Consumer<CudaStream>> others = new java.util.ArrayList<>();
        int maxTableBits = 1;
        for (int i = 0; i < block.tensors().size(); i++) {
            WeightBlock.Stored s = block.tensors().get(i);
            DeviceBuffer o = out.apply(s);
            long word = errorWord.applyAsLong(i);
            if (s.quantized() instanceof StoredTensor.Coded e) {
                if (o.bytes() < 4 * s.elements()) throw new IllegalArgumentException("output of " + o.bytes() + " bytes for '" + s.name() + "'");
                coded.add(huffmanParams(s, e, bytes.address(), word));
                codedOut.add(o.address());
                maxTableBits = Math.max(maxTableBits, s.tableBits());
            } else {
                others.add(stream -> launch(s, bytes, word, OutputType.F32, o, stream));
            }
        }
        return new LayerDecode(huffman, coded, codedOut, maxTableBits, others);
    }

    /**
     * Launches the decode of {@code s}, whose block starts at {@code block}, into {@code out}.
     *
     * @param errorWord device address of this tensor's int32 error word (Huffman only)
     */
    void launch(WeightBlock.Stored s, DeviceSlice block, long errorWord, DeviceBuffer out, CudaStream stream) {
        launch(s, block, errorWord, OutputType.F32, out, stream);
    }

    void launch(WeightBlock.Stored s, DeviceSlice block, long errorWord, OutputType type, DeviceBuffer out, CudaStream stream) {
        long base = block.address();
        switch (s.quantized()) {
            case StoredTensor.Coded e -> huffman.launch(type, huffmanParams(s, e, base, errorWord), out, stream);
            case StoredTensor.Packed e -> {
                long scales = base + s.piece(WeightBlock.PieceKind.PARAMS).offset();
                long zeros = e.scheme() == AppliedScheme.ASYM ? scales + e.groups() * 4 : scales;
                packed.launch(type, new UnpackParams(base + s.piece(WeightBlock.PieceKind.PACKED).offset(), scales, zeros,
                        e.elementCount(), e.groupSize(), e.bits(), e.scheme().id(), e.sign()), out, stream);
            }
            case null -> {
                if (type != OutputType.F32) throw new IllegalArgumentException("tensor '" + s.name() + "' is unquantized: it decodes to F32 only, not " + type);
                WeightBlock.Piece raw = s.piece(WeightBlock.PieceKind.RAW);
                widen.launch(s.rawDtype(), block.buffer().slice(block.offset() + raw.offset(), raw.bytes()), s.elements(), out.whole(), stream);
            }
        }
    }
}
