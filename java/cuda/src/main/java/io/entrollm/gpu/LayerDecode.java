package io.entrollm.gpu;

import java.util.List;
import java.util.function.Consumer;

/**
 * One layer's decode into its tensors' forms, planned once ({@link FormDecoder#plan}): its
 * Huffman-coded tensors as one batched launch into symbols (entries uploaded at planning), and a launch
 * or device copy for each other part that is not read in place. {@link #launch} enqueues them all on a
 * stream; it allocates nothing.
 */
final class LayerDecode implements AutoCloseable {
    private final HuffmanDecodeLauncher huffman;
    private final DeviceBuffer entries;
    private final int count, gridBlocks, maxTableBits;
    private final List<Consumer<CudaStream>> others;

    /** @param forms each coded tensor's symbol form (entro::WeightForm) at {@code outs} */
    LayerDecode(HuffmanDecodeLauncher huffman, List<DecodeParams> coded, List<Long> outs, List<Integer> forms, int maxTableBits,
                List<Consumer<CudaStream>> others) {
        this.huffman = huffman;
        this.count = coded.size();
        this.maxTableBits = maxTableBits;
        this.others = List.copyOf(others);
        int[] blocks = new int[1];
        byte[] image = HuffmanDecodeLauncher.batchEntries(coded, outs, forms, blocks);
        this.gridBlocks = blocks[0];
        this.entries = count == 0 ? null
                : DeviceBuffer.copyOf(huffman.context(), java.lang.foreign.MemorySegment.ofArray(image), "batched decode entries");
    }

    /** Enqueues the layer's launches other than the Huffman decode (widened vectors, copies) on {@code stream}. */
    void launchOthers(CudaStream stream) {
        for (Consumer<CudaStream> launch : others) launch.accept(stream);
    }

    /** Enqueues the layer's decode on {@code stream}. */
    void launch(CudaStream stream) {
        if (count > 0) huffman.launchBatch(entries, count, gridBlocks, maxTableBits, stream);
        launchOthers(stream);
    }

    @Override
    public void close() { if (entries != null) entries.close(); }
}
