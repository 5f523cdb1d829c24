package io.entrollm.gpu;

import io.entrollm.residency.WeightBlock;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * DECODED residency: each layer's block is uploaded, decoded on the GPU into one float32 buffer per
 * tensor, and freed; the forward pass then reads decoded weights only. Fastest, and the most memory.
 * Also holds the embedding, final norm and head in every mode (one block of those, decoded at load).
 */
final class DecodedLayers implements LayerWeights {
    private final Map<String, DeviceBuffer> weights;

    private DecodedLayers(Map<String, DeviceBuffer> weights) { this.weights = weights; }

    static DecodedLayers load(CudaContext ctx, Path file, List<WeightBlock> blocks) {
        Map<String, DeviceBuffer> weights = new LinkedHashMap<>();
        BlockDecoder decoder = new BlockDecoder(ctx);
        try (CudaStream s = new CudaStream()) {
            for (WeightBlock b : blocks) {
                List<String> names = b.tensors().stream().map(WeightBlock.Stored::name).toList();
                for (WeightBlock.Stored t : b.tensors()) weights.put(t.name(), DeviceBuffer.allocate(ctx, t.decodedBytes(), "tensor '" + t.name() + "'"));
                try (DeviceBuffer block = WeightBlocks.upload(ctx, b); ErrorWords errors = new ErrorWords(ctx, file, names);
                     LayerDecode decode = decoder.plan(b, block.whole(), errors::address, t -> weights.get(t.name()))) {
                    decode.launch(s);
                    s.synchronize();
                    errors.check();
                }
            }
            return new DecodedLayers(weights);
        } catch (RuntimeException e) {
            weights.values().forEach(DeviceBuffer::close);
            throw e;
        }
    }

    @Override
    public DeviceBuffer decoded(String name) {
        DeviceBuffer b = weights.get(name);
        if (b == null) throw new IllegalArgumentException("no decoded weights for '" + name + "'");
        return b;
    }

    @Override
    public void runLayers(int layers, CudaStream compute, IntConsumer computeLayer) {
        for (int l = 0; l < layers; l++) computeLayer.accept(l);
    }

    @Override public void checkErrors() { } // decoded and checked at load

    @Override public long residentBytes() { return weights.values().stream().mapToLong(DeviceBuffer::bytes).sum(); }

    @Override public void setProfiling(boolean on) { } // nothing is decoded or copied per pass

    @Override public List<LayerTimeline.Step> lastTimeline() { return List.of(); }

    @Override
    public void close() { weights.values().forEach(DeviceBuffer::close); }
}
