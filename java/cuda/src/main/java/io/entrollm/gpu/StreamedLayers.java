package io.entrollm.gpu;

import io.entrollm.model.LlamaTensorNames;
import io.entrollm.residency.StreamSource;
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
 * STREAMED residency: each forward pass copies layer i's block to the GPU (staging buffer i % 2, copy
 * stream), decodes its coded tensors into symbols (scratch set i % 2, decode stream) and computes it
 * (compute stream; scales, packed symbols and stored matrices read in place in the staging block), following
 * {@link StreamingSchedule}: copy i+1 and decode i+1 overlap compute i, and CUDA events carry the
 * schedule's data and buffer-reuse dependencies between streams. GPU memory: two staging blocks and
 * two scratch sets, whatever the model's size.
 *
 * <p>Blocks come from pinned host memory ({@link StreamSource#HOST}: every block copied there at load)
 * or from the memory-mapped file ({@link StreamSource#STORAGE}: before issuing copy i the host waits
 * for the copy of layer i-2 to finish with bounce buffer i % 2, then assembles block i there from the
 * mapping; the GPU meanwhile runs the steps already issued).
 */
final class StreamedLayers implements LayerWeights {
    private final List<WeightBlock> blocks;
    private final List<PinnedHostBuffer> host;
    /** STORAGE: two pinned bounce buffers; HOST: null. */
    private final PinnedHostBuffer[] bounce;
    private final int[] copyStep;
    private final List<LayerTimeline.Step> reads = new ArrayList<>();
    private long passStartNanos;
    private final DeviceBuffer[] staging;
    private final List<Map<String, DeviceBuffer>> scratch;
    private final ErrorWords errors;
    private final List<FormDecoder.Planned> plans = new ArrayList<>();
    private final CudaStream copyStream = new CudaStream(), decodeStream = new CudaStream();
    private final List<StreamingSchedule.Step> schedule;
    private final CUevent[] done;
    private final CUevent passStart = new CUevent();
    private final StepClock clock;
    private boolean profiling;
    private List<LayerTimeline.Step> timeline = List.of();

    private StreamedLayers(CudaContext ctx, List<WeightBlock> blocks, List<PinnedHostBuffer> host, PinnedHostBuffer[] bounce, DeviceBuffer[] staging,
                           List<Map<String, DeviceBuffer>> scratch, ErrorWords errors) {
        this.blocks = blocks;
        this.host = host;
        this.bounce = bounce;
        this.staging = staging;
        this.scratch = scratch;
        this.errors = errors;
        this.schedule = StreamingSchedule.forLayers(blocks.size());
        this.copyStep = new int[blocks.size()];
        for (StreamingSchedule.Step st : schedule) if (st.stream() == StreamingSchedule.Stream.COPY) copyStep[st.layer()] = st.index();
        this.done = new CUevent[schedule.size()];
        for (int i = 0; i < done.length; i++) {
            done[i] = new CUevent();
            Cuda.check(JCudaDriver.cuEventCreate(done[i], CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        }
        Cuda.check(JCudaDriver.cuEventCreate(passStart, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        this.clock = new StepClock(schedule.size());
        // layer l always decodes from staging buffer l % 2 into scratch set l % 2: plan each layer once
        FormDecoder decoder = new FormDecoder(ctx);
        int[] firstWord = WeightBlocks.firstWords(blocks);
        try {
            for (int l = 0; l < blocks.size(); l++) {
                int first = firstWord[l];
                Map<String, DeviceBuffer> out = scratch.get(l % 2);
                // the copy of layer l + 2 waits for layer l's compute (StreamingSchedule): the compute reads scales,
                // packed symbols and stored matrices in place in the staging block
                plans.add(decoder.plan(blocks.get(l), staging[l % 2].whole(), i -> errors.address(first + i), FormDecoder.Placement.IN_PLACE,
                        t -> out.get(LlamaTensorNames.roleOf(t.name())).whole()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    static StreamedLayers load(CudaContext ctx, Path file, List<WeightBlock> blocks, StreamSource source) {
        List<PinnedHostBuffer> host = new ArrayList<>();
        PinnedHostBuffer[] bounce = source == StreamSource.STORAGE ? new PinnedHostBuffer[2] : null;
        DeviceBuffer[] staging = new DeviceBuffer[2];
        List<Map<String, DeviceBuffer>> scratch = new ArrayList<>();
        ErrorWords errors = null;
        try {
            long largest = blocks.stream().mapToLong(WeightBlock::bytes).max().orElse(0);
            if (source == StreamSource.HOST) {
                for (WeightBlock b : blocks) {
                    PinnedHostBuffer h = new PinnedHostBuffer(ctx, b.bytes(), "layer " + b.layer() + " of " + file);
                    host.add(h);
                    b.copyTo(h.segment());
                }
            } else {
                for (int i = 0; i < 2; i++) bounce[i] = new PinnedHostBuffer(ctx, largest, "streaming bounce buffer " + i + " for " + file);
            }
            Map<String, Long> roles = WeightBlocks.scratchBytesByRole(blocks, FormDecoder.Placement.IN_PLACE);
            for (int i = 0; i < 2; i++) {
                staging[i] = DeviceBuffer.allocate(ctx, largest, "streaming staging buffer " + i);
                scratch.add(WeightBlocks.allocateScratch(ctx, roles, "streaming decode scratch " + i));
            }
            errors = new ErrorWords(ctx, file, WeightBlocks.tensorNames(blocks));
            return new StreamedLayers(ctx, blocks, host, bounce, staging, scratch, errors);
        } catch (RuntimeException e) {
            host.forEach(PinnedHostBuffer::close);
            if (bounce != null) for (PinnedHostBuffer b : bounce) if (b != null) b.close();
            for (DeviceBuffer b : staging) if (b != null) b.close();
            scratch.forEach(m -> m.values().forEach(DeviceBuffer::close));
            if (errors != null) errors.close();
            throw e;
        }
    }

    @Override
    public GpuWeight weight(String name) { return WeightBlocks.weight(plans, name); }

    @Override
    public void runLayers(int layers, int tokens, CudaStream compute, IntConsumer computeLayer) {
        if (layers != blocks.size()) throw new IllegalArgumentException(layers + " layers, " + blocks.size() + " streamed");
        // the side streams start after the work already queued on the compute stream (embedding), and
        // after the previous pass, which the caller synchronised
        CUevent start = passStart;
        reads.clear();
        passStartNanos = System.nanoTime();
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
            jcuda.Pointer copySource = step.stream() == StreamingSchedule.Stream.COPY ? copySource(l, step.buffer()) : null;
            if (profiling) clock.start(step.index(), kind(step.stream()), l, step.stream() == StreamingSchedule.Stream.COMPUTE ? 0 : b.bytes(), s);
            switch (step.stream()) {
                case COPY -> Cuda.check(JCudaDriver.cuMemcpyHtoDAsync(staging[step.buffer()].pointer(), copySource, b.bytes(), s.handle()),
                        "cuMemcpyHtoDAsync (layer " + l + ")");
                case DECODE -> plans.get(l).decode().launch(s);
                case COMPUTE -> computeLayer.accept(l);
            }
            if (profiling) clock.end(step.index(), s);
            Cuda.check(JCudaDriver.cuEventRecord(done[step.index()], s.handle()), "cuEventRecord");
        }
        timeline = List.of();
        if (profiling) {
            compute.synchronize();
            List<LayerTimeline.Step> all = new ArrayList<>(reads);
            all.addAll(clock.read(schedule.size()));
            timeline = List.copyOf(all);
        }
    }

    /**
     * The host memory copy {@code layer} is copied from: its pinned block, or (from storage) bounce
     * buffer {@code buffer} filled from the mapped file once the copy that last read it has finished.
     */
    private jcuda.Pointer copySource(int layer, int buffer) {
        if (bounce == null) return host.get(layer).pointer();
        if (layer >= 2) Cuda.check(JCudaDriver.cuEventSynchronize(done[copyStep[layer - 2]]), "cuEventSynchronize (bounce buffer " + buffer + ")");
        long t0 = System.nanoTime();
        blocks.get(layer).copyTo(bounce[buffer].segment());
        if (profiling) {
            reads.add(new LayerTimeline.Step(LayerTimeline.Kind.READ, layer, (t0 - passStartNanos) / 1e6, (System.nanoTime() - passStartNanos) / 1e6,
                    blocks.get(layer).bytes()));
        }
        return bounce[buffer].pointer();
    }

    private static LayerTimeline.Kind kind(StreamingSchedule.Stream s) {
        return switch (s) {
            case COPY -> LayerTimeline.Kind.COPY;
            case DECODE -> LayerTimeline.Kind.DECODE;
            case COMPUTE -> LayerTimeline.Kind.COMPUTE;
        };
    }

    @Override public void checkErrors() { errors.check(); }

    /** Each block copied in (written), then as in the compressed mode: coded pieces read, symbols written, vectors widened. */
    @Override
    public long decodeTrafficPerPass(int tokens) { return blocks.stream().mapToLong(WeightBlock::bytes).sum() + WeightBlocks.decodeTraffic(blocks, true); }

    @Override
    public long residentBytes() {
        long s = staging[0].bytes() + staging[1].bytes();
        for (Map<String, DeviceBuffer> m : scratch) s += m.values().stream().mapToLong(DeviceBuffer::bytes).sum();
        return s;
    }

    /** Pinned host bytes: every layer's block, or the two bounce buffers. */
    long pinnedHostBytes() {
        return host.stream().mapToLong(PinnedHostBuffer::bytes).sum() + (bounce == null ? 0 : bounce[0].bytes() + bounce[1].bytes());
    }

    @Override public void setProfiling(boolean on) { profiling = on; }

    @Override public List<LayerTimeline.Step> lastTimeline() { return timeline; }

    @Override
    public void close() {
        // nothing may still read the staging buffers or write the scratch when they are freed
        copyStream.synchronize();
        decodeStream.synchronize();
        plans.forEach(FormDecoder.Planned::close);
        host.forEach(PinnedHostBuffer::close);
        if (bounce != null) for (PinnedHostBuffer b : bounce) b.close();
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
