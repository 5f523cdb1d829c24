package io.entrollm.gpu;

import io.entrollm.residency.WeightBlock;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * DECODED residency: each layer's block is uploaded, turned on the GPU into its tensors' GPU form (one
 * buffer per tensor: Huffman-coded tensors decoded into packed symbols, packed and unquantized ones
 * copied as stored, vectors widened to float32), and freed; the forward pass then reads those forms
 * only. Fastest, and the most memory (still the stored bits, not float32). Also holds the embedding,
 * final norm and head in every mode (one block of those, turned into forms at load).
 */
final class DecodedLayers implements LayerWeights {
    private final Map<String, GpuWeight> weights;
    private final List<DeviceBuffer> buffers;

    private DecodedLayers(Map<String, GpuWeight> weights, List<DeviceBuffer> buffers) {
        this.weights = weights;
        this.buffers = buffers;
    }

    static DecodedLayers load(CudaContext ctx, Path file, List<WeightBlock> blocks) {
        Map<String, GpuWeight> weights = new LinkedHashMap<>();
        List<DeviceBuffer> buffers = new ArrayList<>();
        FormDecoder decoder = new FormDecoder(ctx);
        try (CudaStream s = new CudaStream()) {
            for (WeightBlock b : blocks) {
                Map<String, DeviceBuffer> own = new LinkedHashMap<>();
                for (WeightBlock.Stored t : b.tensors()) {
                    DeviceBuffer d = DeviceBuffer.allocate(ctx, t.formBytes(), "tensor '" + t.name() + "'");
                    buffers.add(d);
                    own.put(t.name(), d);
                }
                List<String> names = b.tensors().stream().map(WeightBlock.Stored::name).toList();
                try (DeviceBuffer block = WeightBlocks.upload(ctx, b); ErrorWords errors = new ErrorWords(ctx, file, names);
                     FormDecoder.Planned plan = decoder.plan(b, block.whole(), errors::address, FormDecoder.Placement.OWN, t -> own.get(t.name()).whole())) {
                    plan.decode().launch(s);
                    s.synchronize();
                    errors.check();
                    weights.putAll(plan.weights());
                }
            }
            return new DecodedLayers(weights, buffers);
        } catch (RuntimeException e) {
            buffers.forEach(DeviceBuffer::close);
            throw e;
        }
    }

    @Override
    public GpuWeight weight(String name) {
        GpuWeight w = weights.get(name);
        if (w == null) throw new IllegalArgumentException("no weights for '" + name + "'");
        return w;
    }

    @Override
    public void runLayers(int layers, int tokens, CudaStream compute, IntConsumer computeLayer) {
        for (int l = 0; l < layers; l++) computeLayer.accept(l);
    }

    @Override public void checkErrors() { } // decoded and checked at load

    @Override public long decodeTrafficPerPass(int tokens) { return 0; }

    @Override public long residentBytes() { return buffers.stream().mapToLong(DeviceBuffer::bytes).sum(); }

    @Override public void setProfiling(boolean on) { } // nothing is decoded or copied per pass

    @Override public List<LayerTimeline.Step> lastTimeline() { return List.of(); }

    @Override
    public void close() { buffers.forEach(DeviceBuffer::close); }
}
