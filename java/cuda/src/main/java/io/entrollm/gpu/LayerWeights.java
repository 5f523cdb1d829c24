package io.entrollm.gpu;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * Where {@link LlamaGpu} finds its decoder-layer weights, one implementation per residency mode:
 * {@link DecodedLayers} (decoded once at load), {@link CompressedLayers} (blocks resident, decoded per
 * layer into scratch), {@link StreamedLayers} (blocks in pinned host memory, copied and decoded a layer
 * ahead of the compute).
 */
interface LayerWeights extends AutoCloseable {
    /** Decoder-layer tensor {@code name} in its GPU form, valid while its layer's compute runs. */
    GpuWeight weight(String name);

    /**
     * Huffman-coded decoder-layer tensor {@code name} as the fused matmul reads it, when this mode
     * multiplies passes of {@code tokens} tokens straight from the coded weights (the fused mode); else null.
     */
    default FormDecoder.Coded fused(String name, int tokens) { return null; }

    /**
     * Runs the layers of a pass of {@code tokens} tokens in order: {@code computeLayer.accept(l)}
     * enqueues layer l's work on {@code compute}, called once its weights are (or will be, in stream
     * order) ready.
     */
    void runLayers(int layers, int tokens, CudaStream compute, IntConsumer computeLayer);

    /** After {@code compute} is synchronised: throws if a decode found corrupt data. */
    void checkErrors();

    /**
     * GPU memory bytes the per-layer decode of a pass of {@code tokens} tokens reads and writes (0 in
     * the decoded mode): stored pieces read, symbols and forms written, and (streamed) the blocks copied in.
     */
    long decodeTrafficPerPass(int tokens);

    /** GPU bytes held for the layers' weights (decoded tensors, resident or staging blocks, scratch). */
    long residentBytes();

    /** Time the copy/decode/compute steps of the following forward passes with CUDA events (off by default: events cost a little). */
    void setProfiling(boolean on);

    /** The steps of the last forward pass run with profiling on, in issue order; empty if none. */
    List<LayerTimeline.Step> lastTimeline();

    @Override
    void close();
}
