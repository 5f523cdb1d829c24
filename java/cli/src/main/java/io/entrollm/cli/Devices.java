package io.entrollm.cli;

/** Device selection for the inference commands. */
final class Devices {
    private Devices() {}

    static void requireCpu(String device) {
        switch (device.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> { }
            case "gpu" -> throw new IllegalArgumentException("--device gpu: the GPU inference path is not in this build yet; use --device cpu");
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, not '" + device + "'");
        }
    }
}
