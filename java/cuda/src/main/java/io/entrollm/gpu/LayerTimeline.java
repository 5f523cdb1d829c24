package io.entrollm.gpu;

import java.util.List;

/**
 * Where a forward pass's time went, layer by layer: each copy (host to device), decode and compute
 * step with its start and end in milliseconds after the pass began (CUDA events), and the bytes it
 * moved. Copy and decode steps of the streamed mode run on their own streams, so their intervals
 * overlap the computes; {@link #busyMs} sums one kind, {@link #spanMs} is the pass's wall time on the GPU.
 * READ steps (streaming from storage: the host reading a layer from the mapped file into a pinned
 * bounce buffer) are timed on the host clock from the start of the pass, so they line up with the
 * GPU steps only to within the launch latency.
 */
public final class LayerTimeline {
    public enum Kind { READ, COPY, DECODE, COMPUTE }

    /**
     * @param bytes for READ and COPY the bytes moved, for DECODE the stored bytes read, for COMPUTE 0
     */
    public record Step(Kind kind, int layer, double startMs, double endMs, long bytes) {
        public double ms() { return endMs - startMs; }
    }

    private LayerTimeline() {}

    public static double busyMs(List<Step> steps, Kind kind) {
        return steps.stream().filter(s -> s.kind() == kind).mapToDouble(Step::ms).sum();
    }

    public static long bytes(List<Step> steps, Kind kind) {
        return steps.stream().filter(s -> s.kind() == kind).mapToLong(Step::bytes).sum();
    }

    public static double spanMs(List<Step> steps) {
        return steps.stream().mapToDouble(Step::endMs).max().orElse(0) - steps.stream().mapToDouble(Step::startMs).min().orElse(0);
    }

    /** GB/s (10^9 bytes) of one kind's steps over their busy time, or NaN when there were none. */
    public static double gigabytesPerSecond(List<Step> steps, Kind kind) {
        double ms = busyMs(steps, kind);
        return ms > 0 ? bytes(steps, kind) / ms / 1e6 : Double.NaN;
    }

    /** CSV: kind, layer, start, end, bytes. */
    public static String csv(List<Step> steps) {
        StringBuilder b = new StringBuilder("kind,layer,start_ms,end_ms,bytes\n");
        for (Step s : steps) {
            b.append(s.kind().name().toLowerCase()).append(',').append(s.layer()).append(',').append(String.format(java.util.Locale.ROOT,
                    "%.4f,%.4f", s.startMs(), s.endMs())).append(',').append(s.bytes()).append('\n');
        }
        return b.toString();
    }
}
