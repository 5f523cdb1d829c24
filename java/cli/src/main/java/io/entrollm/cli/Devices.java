package io.entrollm.cli;

import io.entrollm.gpu.GpuSessions;
import io.entrollm.infer.LanguageModel;
import io.entrollm.residency.ModelFootprint;
import io.entrollm.residency.ResidencyMode;
import io.entrollm.residency.ResidencyPlanner;
import io.entrollm.residency.StreamSource;

import java.io.PrintWriter;
import java.util.List;

/** Device and residency options shared by the inference commands (a picocli mixin). */
final class Devices {
    @picocli.CommandLine.Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu. Default: ${DEFAULT-VALUE}.")
    String device;

    @picocli.CommandLine.Option(names = "--threads", defaultValue = "0",
            description = "CPU threads for --device cpu (0: every core). Default: ${DEFAULT-VALUE}.")
    int threads;

    @picocli.CommandLine.Option(names = "--residency", defaultValue = "auto",
            description = "GPU weight residency: decoded, compressed (stored weights on the GPU, decoded per layer), streamed (stored weights in pinned host memory, copied and decoded a layer ahead), or auto. Default: ${DEFAULT-VALUE}.")
    String residency;

    @picocli.CommandLine.Option(names = "--fused",
            description = "Experimental, with --residency compressed: generated tokens multiply straight from the Huffman-coded weights, writing no weights at all (prompts still decode per layer).")
    boolean fused;

    @picocli.CommandLine.Option(names = "--gpu-memory-budget", paramLabel = "SIZE",
            description = "With --residency auto: pick the fastest mode that fits, e.g. 3GiB.")
    String gpuMemoryBudget;

    @picocli.CommandLine.Option(names = "--stream-from", defaultValue = "auto",
            description = "Streamed mode: host (every layer pinned in host memory at load), storage (layers read from the mapped file "
                    + "each pass through two pinned buffers: for models larger than host memory), or auto (host unless pinning would "
                    + "take more than 80%% of the available memory). Default: ${DEFAULT-VALUE}.")
    String streamFrom;

    /**
     * Opens the session these options ask for, for contexts of up to {@code contextTokens} run in
     * forward passes of at most {@code batchTokens} (what the residency plan sizes).
     */
    LanguageModel.Session open(LanguageModel lm, int contextTokens, int batchTokens, PrintWriter log) {
        boolean auto = streamFrom.equalsIgnoreCase("auto");
        if (!auto && !List.of("host", "storage").contains(streamFrom.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("--stream-from must be auto, host or storage, not '" + streamFrom + "'");
        }
        if (fused && !residency.equalsIgnoreCase("compressed")) throw new IllegalArgumentException("--fused applies to --residency compressed");
        if (device.equalsIgnoreCase("cpu") || !auto) {
            return open(lm, device, threads, residency, fused, gpuMemoryBudget, auto ? StreamSource.HOST : streamSource(streamFrom), contextTokens,
                    batchTokens, log);
        }
        // auto: decided only if the mode turns out to be streamed
        return open(lm, device, threads, residency, fused, gpuMemoryBudget, null, contextTokens, batchTokens, log);
    }

    static StreamSource streamSource(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "host" -> StreamSource.HOST;
            case "storage" -> StreamSource.STORAGE;
            default -> throw new IllegalArgumentException("--stream-from must be host or storage, not '" + s + "'");
        };
    }

    /**
     * A CPU session, or a GPU session on the first GPU in the residency mode asked for: {@code decoded},
     * {@code compressed} ({@code fused}: generation multiplies from the coded weights), {@code streamed},
     * or {@code auto} (the fastest that fits {@code budget}, said on {@code log}). A null {@code streamFrom} lets the streamed mode pick its source from the host's
     * available memory ({@link io.entrollm.residency.HostMemory}).
     */
    static LanguageModel.Session open(LanguageModel lm, String device, int threads, String residency, boolean fused, String budget,
                                      StreamSource streamFrom, int contextTokens, int batchTokens, PrintWriter log) {
        return switch (device.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> {
                if (!residency.equals("auto") || fused || budget != null || (streamFrom != null && streamFrom != StreamSource.HOST)) {
                    throw new IllegalArgumentException("--residency, --fused, --gpu-memory-budget and --stream-from apply to --device gpu");
                }
                yield lm.openCpuSession(threads);
            }
            case "gpu" -> {
                if (threads != 0) throw new IllegalArgumentException("--threads applies to --device cpu");
                // sized once, and only if a decision needs it
                ModelFootprint[] fp = new ModelFootprint[1];
                java.util.function.Supplier<ModelFootprint> footprint = () -> fp[0] != null ? fp[0]
                        : (fp[0] = ModelFootprint.of(lm.source(), contextTokens, Math.min(batchTokens, contextTokens)));
                ResidencyMode mode = mode(residency, budget, footprint, log);
                StreamSource from = streamFrom;
                if (from == null && mode == ResidencyMode.STREAMED) {
                    io.entrollm.residency.HostMemory.Choice c = io.entrollm.residency.HostMemory.choose(footprint.get(),
                            io.entrollm.residency.HostMemory.availableBytes());
                    log.println("[residency] " + c.explanation());
                    from = c.source();
                }
                try {
                    yield GpuSessions.open(lm, 0, mode, from == null ? StreamSource.HOST : from, fused);
                } catch (io.entrollm.gpu.CudaException e) {
                    if (!e.getMessage().startsWith("no usable GPU")) throw e;
                    throw new io.entrollm.gpu.CudaException(e.getMessage() + "; run on the CPU with --device cpu");
                }
            }
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, not '" + device + "'");
        };
    }

    private static ResidencyMode mode(String residency, String budget, java.util.function.Supplier<ModelFootprint> footprint, PrintWriter log) {
        switch (residency.toLowerCase(java.util.Locale.ROOT)) {
            case "decoded": return ResidencyMode.DECODED;
            case "compressed": return ResidencyMode.COMPRESSED;
            case "streamed": return ResidencyMode.STREAMED;
            case "auto": break;
            default: throw new IllegalArgumentException("--residency must be auto, decoded, compressed or streamed, not '" + residency + "'");
        }
        if (budget == null) return ResidencyMode.DECODED;
        ResidencyPlanner.Plan plan = ResidencyPlanner.choose(footprint.get(), ResidencyPlanner.parseBytes(budget));
        log.println("[residency] " + plan.explanation());
        return plan.mode();
    }
}
