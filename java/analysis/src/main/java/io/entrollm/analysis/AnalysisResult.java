package io.entrollm.analysis;

import java.util.List;
import java.util.Map;

/** Everything one analysis measured; serialised as the JSON report. */
public record AnalysisResult(String model, String format, String machine, int threadsForSizes, int threadsForSpeed,
                             long sourceBytes, List<CodecResult> sourceCodecs, List<SettingResult> settings,
                             List<Double> storageMBps) {

    /** A codec on a whole byte stream: size, ratio (uncompressed / compressed), medians of repeated runs. */
    public record CodecResult(String codec, long uncompressedBytes, long compressedBytes, double ratio, double bitsPerWeight,
                              double encodeMBps, double decodeMBps, int repeats) {}

    /**
     * One tensor under one setting. {@code huffmanPayloadBits} is the bitstream alone; {@code huffmanBytes}
     * adds codebook, chunk index and word padding. {@code codecBytes} holds each codec's size of the
     * tensor's packed bytes alone. No size includes scales/zeros (the same for every codec).
     */
    public record TensorResult(String name, List<Long> shape, long weights, String scheme, double entropyBits, double pairEntropyBits,
                               long packedBytes, long huffmanPayloadBits, long huffmanBytes, Map<String, Long> codecBytes, double mse) {}

    /** Load time of the whole quantized model from storage at one bandwidth. */
    public record LoadTime(String codec, double storageMBps, long bytes, double decodeSeconds, double sequentialSeconds,
                           double pipelinedSeconds, double measuredSeconds) {}

    public record SettingResult(AnalysisSetting setting, long weights, long packedBytes, double entropyBits, double pairEntropyBits,
                                List<TensorResult> tensors, List<CodecResult> codecs, List<LoadTime> loadTimes) {}
}
