package io.entrollm.gpu;

import io.entrollm.model.LlamaTensorNames;
import io.entrollm.residency.WeightBlock;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * COMPRESSED residency (DFloat11-style): every layer's block stays on the GPU in its stored form, and
 * just before a layer computes its Huffman-coded tensors are decoded into packed symbols (and its
 * f16/bf16 norms widened) in one set of scratch buffers (one per weight role), on the compute stream,
 * so stream order alone keeps the decode of layer l+1 from overwriting symbols layer l still reads.
 * Scales, packed tensors and stored matrices are read in place from the block. GPU memory: the blocks
 * plus one layer's symbols.
 */
final class CompressedLayers implements LayerWeights {
    private final List<WeightBlock> blocks;
    private final List<DeviceBuffer> resident;
    private final Map<String, DeviceBuffer> scratch;
    private final ErrorWords errors;
    private final List<FormDecoder.Planned> plans = new ArrayList<>();
    private final StepClock clock;
    /** Generation passes multiply straight from the coded weights (huffman_gemv.cu); prompts still decode into symbols. */
    private final boolean fused;
    private boolean profiling;
    private List<LayerTimeline.Step> timeline = List.of();

    private CompressedLayers(CudaContext ctx, List<WeightBlock> blocks, List<DeviceBuffer> resident, Map<String, DeviceBuffer> scratch,
                             ErrorWords errors, boolean fused) {
        this.blocks = blocks;
        this.fused = fused;
        this.resident = resident;
        this.scratch = scratch;
        this.errors = errors;
        this.clock = new StepClock(2 * blocks.size());
        FormDecoder decoder = new FormDecoder(ctx);
        int[] firstWord = WeightBlocks.firstWords(blocks);
        try {
            for (int l = 0; l < blocks.size(); l++) {
                int first = firstWord[l];
                plans.add(decoder.plan(blocks.get(l), resident.get(l).whole(), i -> errors.address(first + i), FormDecoder.Placement.IN_PLACE,
                        t -> scratch.get(LlamaTensorNames.roleOf(t.name())).whole()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** @param fused generation passes multiply straight from the coded weights (the experimental fused mode) */
    static CompressedLayers load(CudaContext ctx, Path file, List<WeightBlock> blocks, boolean fused) {
        List<DeviceBuffer> resident = new ArrayList<>();
        Map<String, DeviceBuffer> scratch = null;
        ErrorWords errors = null;
        try {
            for (WeightBlock b : blocks) resident.add(WeightBlocks.upload(ctx, b));
            scratch = WeightBlocks.allocateScratch(ctx, WeightBlocks.scratchBytesByRole(blocks, FormDecoder.Placement.IN_PLACE), "decode scratch");
            errors = new ErrorWords(ctx, file, WeightBlocks.tensorNames(blocks));
            return new CompressedLayers(ctx, blocks, resident, scratch, errors, fused);
        } catch (RuntimeException e) {
            resident.forEach(DeviceBuffer::close);
            if (scratch != null) scratch.values().forEach(DeviceBuffer::close);
            if (errors != null) errors.close();
            throw e;
        }
    }

    @Override
    public GpuWeight weight(String name) { return WeightBlocks.weight(plans, name); }

    /** Whether passes of {@code tokens} multiply straight from the coded weights (the fused mode's generation passes). */
    private boolean fusedPass(int tokens) { return fused && tokens <= GemvLauncher.TOKENS_PER_PASS; }

    @Override
    public FormDecoder.Coded fused(String name, int tokens) {
        FormDecoder.Planned plan = fusedPass(tokens) ? WeightBlocks.plan(plans, name) : null;
        return plan == null ? null : plan.coded().get(name);
    }

    @Override
    public void runLayers(int layers, int tokens, CudaStream compute, IntConsumer computeLayer) {
        if (profiling) clock.begin(compute);
        int step = 0;
        for (int l = 0; l < layers; l++) {
            if (profiling) clock.start(step, LayerTimeline.Kind.DECODE, l, blocks.get(l).bytes(), compute);
            if (fusedPass(tokens)) plans.get(l).decode().launchOthers(compute);
            else plans.get(l).decode().launch(compute);
            if (profiling) {
                clock.end(step++, compute);
                clock.start(step, LayerTimeline.Kind.COMPUTE, l, 0, compute);
            }
            computeLayer.accept(l);
            if (profiling) clock.end(step++, compute);
        }
        timeline = List.of();
        if (profiling) {
            compute.synchronize();
            timeline = clock.read(step);
        }
    }

    @Override public void checkErrors() { errors.check(); }

    /** A generation pass of the fused mode decodes nothing ahead (its matmuls read the coded weights: counted as weights). */
    @Override
    public long decodeTrafficPerPass(int tokens) { return WeightBlocks.decodeTraffic(blocks, !fusedPass(tokens)); }

    @Override
    public long residentBytes() {
        return resident.stream().mapToLong(DeviceBuffer::bytes).sum() + scratch.values().stream().mapToLong(DeviceBuffer::bytes).sum();
    }

    @Override public void setProfiling(boolean on) { profiling = on; }

    @Override public List<LayerTimeline.Step> lastTimeline() { return timeline; }

    @Override
    public void close() {
        plans.forEach(FormDecoder.Planned::close);
        resident.forEach(DeviceBuffer::close);
        scratch.values().forEach(DeviceBuffer::close);
        errors.close();
        clock.close();
    }
}
