package io.entrollm.cli;

import io.entrollm.calibration.ActivationStats;
import io.entrollm.calibration.BitAllocation;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.TensorSelection;
import io.entrollm.infer.LanguageModel;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code --target-bits} (compress and pareto): a width per tensor for the layers the compressor
 * quantizes at {@code --bits}, by {@link BitAllocation}, weighted by a calibration text's activations
 * when one is given ({@link ActivationStats}).
 */
final class TargetBits {
    private TargetBits() {}

    /** The widths a tensor may get. */
    static final int[] WIDTHS = {2, 3, 4, 5, 6, 8};
    /** Tokens per forward pass while collecting statistics. */
    private static final int WINDOW = 256;

    /**
     * What the layers of a model saw of a calibration text (per tensor, the mean square of each input
     * column, and where asked for the mean of {@code x x^T} for error feedback), or nothing: then every
     * column weighs the same.
     *
     * @param text the calibration text, or null
     */
    record Calibration(Path text, Map<String, double[]> meanSquares, Map<String, double[]> grams) {
        static final Calibration NONE = new Calibration(null, Map.of(), Map.of());
    }

    /**
     * Runs at most {@code calibrationTokens} tokens of {@code text} (a file or a folder of *.txt) through
     * {@code model}; {@link Calibration#NONE} when {@code text} is null. Once per model and text: every
     * target planned for the model can share it.
     */
    static Calibration calibrate(Path model, Path text, int calibrationTokens, boolean grams, PrintWriter err) throws java.io.IOException {
        if (calibrationTokens < 1) throw new IllegalArgumentException("--calibration-tokens must be positive");
        if (text == null) return Calibration.NONE;
        try (LanguageModel lm = LanguageModel.load(model)) {
            int[] all = PerplexityCommand.tokens(lm, model, text, 0);
            int[] tokens = java.util.Arrays.copyOf(all, Math.min(all.length, calibrationTokens));
            try (Progress bar = Progress.start("calibrate", "tokens", tokens.length, err)) {
                ActivationStats.Inputs seen = ActivationStats.collectInputs(lm.source(), tokens, WINDOW, 0, bar::stepTo, grams);
                return new Calibration(text, seen.meanSquares(), seen.grams());
            }
        }
    }

    /**
     * Per-tensor widths and granularities for {@code model} compressed with {@code o} at {@code targetBits}
     * a weight over the tensors it quantizes at {@code --bits} (embedding and head keep their own setting).
     *
     * @param granularities the granularities a tensor may get (group sizes where they divide its row length)
     * @param calibration   the layers' input statistics ({@link #calibrate})
     */
    static BitAllocation.Result plan(Path model, CompressOptions o, double targetBits, List<io.entrollm.quant.Granularity> granularities,
                                     Calibration calibration, PrintWriter err) throws java.io.IOException {
        if (!(targetBits > 0 && targetBits <= 9)) throw new IllegalArgumentException("--target-bits must be in (0, 9], is " + targetBits);
        if (o.encoding() == CompressOptions.Encoding.KEEP_GGML) throw new IllegalArgumentException("--target-bits does not apply to --keep-quantization");
        try (LanguageModel lm = LanguageModel.load(model)) {
            List<String> names = lm.source().tensors().stream().filter(t -> TensorSelection.quantize(t, false)).map(Tensor::name).toList();
            if (names.isEmpty()) throw new IllegalArgumentException(model + ": no tensor to quantize");
            BitAllocation.Settings s = new BitAllocation.Settings(o.scheme(), o.scaleDtype() == DType.F16, o.scaleSearch(), o.maxCodeLength(),
                    o.chunkSymbols(), o.encoding() == CompressOptions.Encoding.HUFFMAN, o.scaleSearchWeighted());
            BitAllocation.Result r;
            try (Progress bar = Progress.start("allocate", "tensors", names.size(), err)) {
                r = BitAllocation.allocate(BitAllocation.inputs(names, n -> lm.source().shape(n).orElseThrow(), n -> TensorReader.toFloats(lm.source().tensor(n))),
                        targetBits, BitAllocation.choices(WIDTHS, granularities), s, calibration.meanSquares(), bar::stepTo);
            }
            err.println(summary(r, calibration.text()));
            return r;
        }
    }

    /** One line: how many tensors got each choice, and the size reached. */
    static String summary(BitAllocation.Result r, Path calibration) {
        Map<String, Integer> count = new TreeMap<>();
        r.choices().values().forEach(c -> count.merge(c.toString(), 1, Integer::sum));
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "[target-bits] %.3f bits a weight over %d tensors (", r.bitsPerWeight(), r.choices().size()));
        count.forEach((choice, n) -> b.append(n).append(" at ").append(choice).append(", "));
        b.setLength(b.length() - 2);
        return b.append(calibration == null ? "; weighted by squared error only)" : "; weighted by the activations of " + calibration.getFileName() + ")").toString();
    }
}
