package io.entrollm.cli;

import io.entrollm.gpu.GpuSessions;
import io.entrollm.infer.LanguageModel;
import io.entrollm.residency.ModelFootprint;
import io.entrollm.residency.ResidencyMode;
import io.entrollm.residency.ResidencyPlanner;

import java.io.PrintWriter;

/** Device and residency options shared by the inference commands (a picocli mixin). */
final class Devices {
    @picocli.CommandLine.Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu. Default: ${DEFAULT-VALUE}.")
    String device;

    @picocli.CommandLine.Option(names = "--residency", defaultValue = "auto",
            description = "GPU weight residency: decoded, compressed (stored weights on the GPU, decoded per layer), streamed (stored weights in pinned host memory, copied and decoded a layer ahead), or auto. Default: ${DEFAULT-VALUE}.")
    String residency;

    @picocli.CommandLine.Option(names = "--gpu-memory-budget", paramLabel = "SIZE",
            description = "With --residency auto: pick the fastest mode that fits, e.g. 3GiB.")
    String gpuMemoryBudget;

    /** Opens the session these options ask for, for contexts of up to {@code contextTokens}. */
    LanguageModel.Session open(LanguageModel lm, int contextTokens, PrintWriter log) {
        return open(lm, device, residency, gpuMemoryBudget, contextTokens, log);
    }

    /**
     * A CPU session, or a GPU session on the first GPU in the residency mode asked for: {@code decoded},
     * {@code compressed}, or {@code auto} (the fastest that fits {@code budget}, said on {@code log}).
     */
    static LanguageModel.Session open(LanguageModel lm, String device, String residency, String budget, int contextTokens, PrintWriter log) {
        return switch (device.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> {
                if (!residency.equals("auto") || budget != null) throw new IllegalArgumentException("--residency and --gpu-memory-budget apply to --device gpu");
                yield lm.openCpuSession();
            }
            case "gpu" -> GpuSessions.open(lm, 0, mode(lm, residency, budget, contextTokens, log));
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, not '" + device + "'");
        };
    }

    private static ResidencyMode mode(LanguageModel lm, String residency, String budget, int contextTokens, PrintWriter log) {
        switch (residency.toLowerCase(java.util.Locale.ROOT)) {
            case "decoded": return ResidencyMode.DECODED;
            case "compressed": return ResidencyMode.COMPRESSED;
            case "streamed": return ResidencyMode.STREAMED;
            case "auto": break;
            default: throw new IllegalArgumentException("--residency must be auto, decoded, compressed or streamed, not '" + residency + "'");
        }
        if (budget == null) return ResidencyMode.DECODED;
        ResidencyPlanner.Plan plan = ResidencyPlanner.choose(ModelFootprint.of(lm.source(), contextTokens), ResidencyPlanner.parseBytes(budget));
        log.println("[residency] " + plan.explanation());
        return plan.mode();
    }
}
