package io.entrollm.gpu;

import io.entrollm.model.LlamaTensorNames;
import io.entrollm.residency.StreamingSchedule;
import io.entrollm.residency.WeightBlock;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * STREAMED residency: every layer's block lives in pinned host memory; each forward pass copies layer
 * i to the GPU (staging buffer i % 2, copy stream), decodes it (scratch set i % 2, decode stream) and
 * computes it (compute stream), following {@link StreamingSchedule}: copy i+1 and decode i+1 overlap
 * compute i, and CUDA events carry the schedule's data and buffer-reuse dependencies between streams.
 * GPU memory: two staging blocks and two scratch sets, whatever the model's size.
 */
final class StreamedLayers implements LayerWeights {
    private final List<WeightBlock> blocks;
    private final List<PinnedHostBuffer> host;
    private final DeviceBuffer[] staging;
    private final List<Map<String, DeviceBuffer>> scratch;
    private final ErrorWords errors;
    private final int[] firstWord;
    private final BlockDecoder decoder;
    private final CudaStream copyStream = new CudaStream(), decodeStream = new CudaStream();
    private final List<StreamingSchedule.Step> schedule;
    private final CUevent[] done;
    private final CUevent passStart = new CUevent();
    private final StepClock clock;
    private boolean profiling;
    private List<LayerTimeline.Step> timeline = List.of();

    private StreamedLayers(CudaContext ctx, List<WeightBlock> blocks, List<PinnedHostBuffer> host, DeviceBuffer[] staging,
                           List<Map<String, DeviceBuffer>> scratch, ErrorWords errors) {
        this.blocks = blocks;
        this.host = host;
        this.staging = staging;
        this.scratch = scratch;
        this.errors = errors;
        this.decoder = new BlockDecoder(ctx);
        this.firstWord = new int[blocks.size()];
        for (int l = 1; l < blocks.size(); l++) firstWord[l] = firstWord[l - 1] + blocks.get(l - 1).tensors().size();
        this.schedule = StreamingSchedule.forLayers(blocks.size());
        this.done = new CUevent[schedule.size()];
        for (int i = 0; i < done.length; i++) {
            done[i] = new CUevent();
            Cuda.check(JCudaDriver.cuEventCreate(done[i], CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        }
        Cuda.check(JCudaDriver.cuEventCreate(passStart, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        this.clock = new StepClock(schedule.size());
    }

    static StreamedLayers load(CudaContext ctx, Path file, List<WeightBlock> blocks) {
        List<PinnedHostBuffer> host = new ArrayList<>();
        DeviceBuffer[] staging = new DeviceBuffer[2];
        List<Map<String, DeviceBuffer>> scratch = new ArrayList<>();
        ErrorWords errors = null;
        try {
            long largest = 0;
            for (WeightBlock b : blocks) {
                PinnedHostBuffer h = new PinnedHostBuffer(ctx, b.bytes(), "layer " + b.layer() + " of " + file);
                host.add(h);
                b.copyTo(h.segment());
                largest = Math.max(largest, b.bytes());
            }
            Map<String, Long> roles = WeightBlocks.scratchBytesByRole(blocks);
            for (int i = 0; i < 2; i++) {
                staging[i] = DeviceBuffer.allocate(ctx, largest, "streaming staging buffer " + i);
                scratch.add(WeightBlocks.allocateScratch(ctx, roles, "streaming decode scratch " + i));
            }
            errors = new ErrorWords(ctx, file, WeightBlocks.tensorNames(blocks));
            return new StreamedLayers(ctx, blocks, host, staging, scratch, errors);
        } catch (RuntimeException e) {
            host.forEach(PinnedHostBuffer::close);
            for (DeviceBuffer b : staging) if (b != null) b.close();
            scratch.forEach(m -> m.values().forEach(DeviceBuffer::close));
            if (errors != null) errors.close();
            throw e;
        }
    }

    @Override
    public DeviceBuffer decoded(String name) {
        return scratch.get(LlamaTensorNames.layerOf(name) % 2).get(LlamaTensorNames.roleOf(name));
    }

    @Override
    public void runLayers(int layers, CudaStream compute, IntConsumer computeLayer) {
        if (layers != blocks.size()) throw new IllegalArgumentException(layers + " layers, " + blocks.size() + " streamed");
        // the side streams start after the work already queued on the compute stream (embedding), and
        // after the previous pass, which the caller synchronised
        CUevent start = passStart;
        if (profiling) start = clock.begin(compute);
        else Cuda.check(JCudaDriver.cuEventRecord(start, compute.handle()), "cuEventRecord");
        Cuda.check(JCudaDriver.cuStreamWaitEvent(copyStream.handle(), start, 0), "cuStreamWaitEvent");
        Cuda.check(JCudaDriver.cuStreamWaitEvent(decodeStream.handle(), start, 0), "cuStreamWaitEvent");
        for (StreamingSchedule.Step step : schedule) {
            CudaStream s = switch (step.stream()) {
                case COPY -> copyStream;
                case DECODE -> decodeStream;
                case COMPUTE -> compute;
            };
            for (int w : step.waitsFor()) Cuda.check(JCudaDriver.cuStreamWaitEvent(s.handle(), done[w], 0), "cuStreamWaitEvent");
            int l = step.layer();
            WeightBlock b = blocks.get(l);
            if (profiling) clock.start(step.index(), kind(step.stream()), l, step.stream() == StreamingSchedule.Stream.COMPUTE ? 0 : b.bytes(), s);
            switch (step.stream()) {
                case COPY -> Cuda.check(JCudaDriver.cuMemcpyHtoDAsync(staging[step.buffer()].pointer(), host.get(l).pointer(), b.bytes(), s.handle()),
                        "cuMemcpyHtoDAsync (layer " + l + ")");
                case DECODE -> {
                    Map<String, DeviceBuffer> out = scratch.get(step.buffer());
                    for (int t = 0; t < b.tensors().size(); t++) {
                        WeightBlock.Stored tensor = b.tensors().get(t);
                        decoder.launch(tensor, staging[step.buffer()].whole(), errors.address(firstWord[l] + t),
                                out.get(LlamaTensorNames.roleOf(tensor.name())), s);
                    }
                }
                case COMPUTE -> computeLayer.accept(l);
            }
            if (profiling) clock.end(step.index(), s);
            Cuda.check(JCudaDriver.cuEventRecord(done[step.index()], s.handle()), "cuEventRecord");
        }
        timeline = List.of();
        if (profiling) {
            compute.synchronize();
            timeline = clock.read(schedule.size());
        }
    }

    private static LayerTimeline.Kind kind(StreamingSchedule.Stream s) {
        return switch (s) {
            case COPY -> LayerTimeline.Kind.COPY;
            case DECODE -> LayerTimeline.Kind.DECODE;
            case COMPUTE -> LayerTimeline.Kind.COMPUTE;
        };
    }

    @Override public void checkErrors() { errors.check(); }

    @Override
    public long residentBytes() {
        long s = staging[0].bytes() + staging[1].bytes();
        for (Map<String, DeviceBuffer> m : scratch) s += m.values().stream().mapToLong(DeviceBuffer::bytes).sum();
        return s;
    }

    /** Pinned host bytes holding the layers. */
    long pinnedHostBytes() { return host.stream().mapToLong(PinnedHostBuffer::bytes).sum(); }

    @Override public void setProfiling(boolean on) { profiling = on; }

    @Override public List<LayerTimeline.Step> lastTimeline() { return timeline; }

    @Override
    public void close() {
        // nothing may still read the staging buffers or write the scratch when they are freed
        copyStream.synchronize();
        decodeStream.synchronize();
        host.forEach(PinnedHostBuffer::close);
        for (DeviceBuffer b : staging) b.close();
        scratch.forEach(m -> m.values().forEach(DeviceBuffer::close));
        errors.close();
        clock.close();
        for (CUevent e : done) JCudaDriver.cuEventDestroy(e);
        JCudaDriver.cuEventDestroy(passStart);
        copyStream.close();
        decodeStream.close();
    }
}
