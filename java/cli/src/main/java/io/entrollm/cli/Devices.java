package io.entrollm.cli;

import io.entrollm.gpu.GpuSessions;
import io.entrollm.infer.LanguageModel;

/** Device selection for the inference commands. */
final class Devices {
    private Devices() {}

    /** A CPU session, or a GPU session on the first GPU (decoded weights, cuBLAS). */
    static LanguageModel.Session open(LanguageModel lm, String device) {
        return switch (device.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> lm.openCpuSession();
            case "gpu" -> GpuSessions.open(lm, 0);
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, not '" + device + "'");
        };
    }
}
