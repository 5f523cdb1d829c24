package io.entrollm.gpu;

import io.entrollm.model.StoredTensor;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.residency.WeightBlock;

/**
 * Decodes one tensor of a {@link WeightBlock} that lies in GPU memory into floats ({@link GpuDecoder},
 * bench decode): Huffman-coded tensors through the Huffman kernel, packed ones through the unpack kernel
 * (both to any {@link OutputType} they offer), unquantized ones widened or copied to float32; and the
 * one place that turns a coded tensor of a block into the Huffman kernels' parameters, for
 * {@link FormDecoder} too. Every launch is asynchronous on the given stream; a corrupt chunk sets the
 * tensor's error word, which the caller reads after synchronising ({@link ErrorWords}).
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
