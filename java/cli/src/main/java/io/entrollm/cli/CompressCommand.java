package io.entrollm.cli;

import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.CompressReport;
import io.entrollm.container.EntroCompressor;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code entrollm compress}: quantize per layer and Huffman-code into a .entro file. */
@Command(name = "compress", mixinStandardHelpOptions = true, header = "Quantize and entropy-code a model into one .entro file.",
        description = "Quantize every linear layer and entropy-code the symbols into a .entro container.")
final class CompressCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model directory, .safetensors or .gguf")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.entro", description = "The .entro file to write (it appears whole, or not at all).")
    Path output;

    @Option(names = "--bits", defaultValue = "8", description = "Bits per weight, 2..8. Default: ${DEFAULT-VALUE}.")
    int bits;

    @Option(names = "--scheme", defaultValue = "mixed", description = "asym, sym, mixed (EntroLLM per-layer rule) or auto (lowest MSE). Default: ${DEFAULT-VALUE}.")
    String scheme;

    @Option(names = "--granularity", defaultValue = "tensor", description = "tensor, channel or group:G. Default: ${DEFAULT-VALUE}.")
    String granularity;

    @Option(names = "--max-code-length", description = "Huffman code length limit in bits (default " + HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH + ").")
    Integer maxCodeLength;

    @Option(names = "--chunk-symbols", defaultValue = "" + HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS,
            description = "Symbols per independently decodable chunk. Default: ${DEFAULT-VALUE}.")
    int chunkSymbols;

    @Option(names = "--include-embeddings", description = "Quantize the token embedding and LM head like the layers (--bits, --granularity) "
            + "instead of at --embedding-bits.")
    boolean includeEmbeddings;

    /** The embedding's bits when neither --embedding-bits nor --include-embeddings is given (llama.cpp keeps the table at 6-8 bits). */
    static final int DEFAULT_EMBEDDING_BITS = 8;

    /**
     * The embedding's bits for CompressOptions: {@code given} when set, else 0 (as the layers, or nothing quantized)
     * when {@code likeLayers}, else {@link #DEFAULT_EMBEDDING_BITS}. Pareto's settings follow the same rule.
     */
    static int embeddingBits(Integer given, boolean likeLayers) {
        return given != null ? given : likeLayers ? 0 : DEFAULT_EMBEDDING_BITS;
    }

    @Option(names = "--embedding-bits", paramLabel = "0|2..8", description = "Quantize the token embedding and LM head at this many bits with a "
            + "scale per row (token), whatever --bits says for the rest; 0 keeps them as stored (bf16), as files before this default did. "
            + "Default: " + DEFAULT_EMBEDDING_BITS + " (with --include-embeddings: --bits).")
    Integer embeddingBits;

    @Option(names = "--embedding-granularity", defaultValue = "channel", paramLabel = "G", description = "Scales of the embedding and head at "
            + "--embedding-bits: channel (a scale per row, i.e. per token), tensor (one: ~1 bit a weight smaller, a little less accurate) or "
            + "group:G. Default: ${DEFAULT-VALUE}.")
    String embeddingGranularity;

    @Option(names = "--encoding", defaultValue = "huffman",
            description = "huffman (EntroLLM) or packed (the same symbols, one or two per byte: the baseline). Default: ${DEFAULT-VALUE}.")
    String encoding;

    @Option(names = "--scale-dtype", defaultValue = "f32", paramLabel = "f32|f16",
            description = "Storage of scales and zero points: f32, or f16 (half the bytes per group, as llama.cpp stores them; symbols are "
                    + "computed for the rounded values; makes a version-2 file). Default: ${DEFAULT-VALUE}.")
    String scaleDtype;

    @Option(names = "--scale-search", description = "Choose each group's scale (and zero point) to minimise its squared error: ranges shrunk "
            + "a percent at a time and least-squares refits tried, as llama.cpp's quantizers do; never worse than the range-spanning "
            + "scale it starts from. With --calibration each weight's error counts as much as its column's mean squared input on that text "
            + "(as llama.cpp's importance matrix). Slower to compress; the file format is the same.")
    boolean scaleSearch;

    @Option(names = "--keep-quantization", description = "For a GGUF file: change no weight. Its GGML blocks (Q8_0, Q4_0, k-quants, ...) are "
            + "Huffman-coded as they are and every other tensor is stored raw; `decompress --gguf` gives the file back byte for byte. "
            + "--bits, --scheme, --granularity and --encoding do not apply.")
    boolean keepQuantization;

    @Option(names = "--target-bits", paramLabel = "BITS", description = "Choose each layer's bits (2, 3, 4, 5, 6 or 8) so that the layers "
            + "average at most BITS a weight in the file (symbols, chunk index, scales), spending bits where quantization hurts the output most. "
            + "Replaces --bits for the layers; the embedding and head keep --embedding-bits or stay as they are.")
    Double targetBits;

    @Option(names = "--target-granularities", split = ",", paramLabel = "G", description = "With --target-bits: the granularities a layer may get "
            + "besides its bits (tensor, channel, group:G; a group size is used where it divides the layer's row length). Default: --granularity.")
    List<String> targetGranularities;

    @Option(names = "--calibration", paramLabel = "FILE|DIR", description = "With --target-bits, --gptq or --scale-search: a text the model reads "
            + "first, so that each layer's error is weighed by the activations it multiplies (not the text you evaluate on).")
    Path calibration;

    @Option(names = "--gptq", description = "Compute each layer's symbols with error feedback (GPTQ): every rounding error is spread over the "
            + "weights not yet rounded, as the layer's inputs on the --calibration text correlate, so its outputs move less. "
            + "Same scales, same format; layers with inputs over 4096 columns are rounded as usual. The statistics take 8 x columns^2 "
            + "bytes per distinct layer input (~2.3 GB for a 1.7B model).")
    boolean gptq;

    @Option(names = "--calibration-tokens", defaultValue = "8192", description = "At most this many tokens of --calibration. Default: ${DEFAULT-VALUE}.")
    int calibrationTokens;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
    Path json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CompressOptions base = new CompressOptions(bits, QuantScheme.parse(scheme), Granularity.parse(granularity),
                maxCodeLength != null ? maxCodeLength : Math.max(bits, HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH), chunkSymbols,
                includeEmbeddings, keepQuantization ? keepEncoding(encoding) : encoding(encoding), scaleDtype(scaleDtype), scaleSearch,
                embeddingBits(embeddingBits, includeEmbeddings || keepQuantization))
                .withEmbeddingGranularity(Granularity.parse(embeddingGranularity));
        PrintWriter out = spec.commandLine().getOut();
        if (calibration != null && targetBits == null && !gptq && !scaleSearch) {
            throw new IllegalArgumentException("--calibration applies to --target-bits, --gptq and --scale-search");
        }
        boolean weighSearch = scaleSearch && calibration != null && !keepQuantization;
        if (gptq && calibration == null) throw new IllegalArgumentException("--gptq needs --calibration (the text whose inputs the errors are spread by)");
        if (gptq && keepQuantization) throw new IllegalArgumentException("--gptq quantizes; --keep-quantization keeps the source's quantization");
        if (calibration != null && !java.nio.file.Files.exists(calibration)) {
            throw new IllegalArgumentException(calibration + ": no such file or folder");
        }
        if (targetGranularities != null && targetBits == null) throw new IllegalArgumentException("--target-granularities applies to --target-bits");
        List<Granularity> granularities = targetGranularities == null ? List.of(base.granularity()) : targetGranularities.stream().map(Granularity::parse).toList();
        TargetBits.Calibration calibrated = targetBits == null && !gptq && !weighSearch ? TargetBits.Calibration.NONE
                : TargetBits.calibrate(model, calibration, calibrationTokens, gptq, spec.commandLine().getErr());
        CompressOptions weighed = weighSearch ? base.withScaleSearchWeights(calibrated.meanSquares()) : base;
        CompressOptions planned = targetBits == null ? weighed
                : weighed.withTensorChoices(TargetBits.plan(model, weighed, targetBits, granularities, calibrated, spec.commandLine().getErr()).choices());
        CompressOptions options = gptq ? planned.withErrorFeedback(calibrated.grams()) : planned;
        CompressReport report;
        // the two outputs succeed or fail together: the report is written (and an unwritable folder found) before
        // the .entro is put in place, and is put in place right after it
        try (ModelSource source = ModelSources.openHuggingFace(model);
             Progress bar = Progress.start("compress", "tensors", source.tensors().size(), spec.commandLine().getErr());
             io.entrollm.io.AtomicFile jsonOut = json == null ? null : io.entrollm.io.AtomicFile.create(json)) {
            report = EntroCompressor.compress(source, output, options, (done, total, name) -> {
                bar.stepTo(done, name);
            }, r -> {
                if (jsonOut == null) return;
                var root = CompressionTables.json(r);
                root.set("settings", new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(options));
                JsonReports.writeTo(jsonOut, root);
            });
            if (jsonOut != null) jsonOut.commit();
        }
        if (keepQuantization) {
            out.printf("%s: the source's quantization kept (GGML blocks' values Huffman-coded, codes <= %d bits, %d symbols per chunk)%n",
                    output, options.maxCodeLength(), options.chunkSymbols());
        } else {
            out.printf("%s: %s %s, %s granularity, %s scales%s, %s%n", output,
                    targetBits != null ? String.format(java.util.Locale.ROOT, "per-layer bits (target %.2f)", targetBits) : options.bits() + "-bit",
                    options.scheme().name().toLowerCase(),
                    options.granularity(), options.scaleDtype().name().toLowerCase(java.util.Locale.ROOT), options.scaleSearch() ? " (searched)" : "",
                    options.encoding() == CompressOptions.Encoding.PACKED ? "packed symbols (no entropy coding)"
                            : "Huffman codes <= " + options.maxCodeLength() + " bits, " + options.chunkSymbols() + " symbols per chunk");
        }
        CompressionTables.print(out, report);
        return 0;
    }

    private static io.entrollm.tensor.DType scaleDtype(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> io.entrollm.tensor.DType.F32;
            case "f16" -> io.entrollm.tensor.DType.F16;
            default -> throw new IllegalArgumentException("--scale-dtype must be f32 or f16, not '" + s + "'");
        };
    }

    private static CompressOptions.Encoding keepEncoding(String s) {
        if (!s.equalsIgnoreCase("huffman")) throw new IllegalArgumentException("--keep-quantization Huffman-codes the source's blocks; --encoding " + s + " does not apply");
        return CompressOptions.Encoding.KEEP_GGML;
    }

    private static CompressOptions.Encoding encoding(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "huffman" -> CompressOptions.Encoding.HUFFMAN;
            case "packed" -> CompressOptions.Encoding.PACKED;
            default -> throw new IllegalArgumentException("--encoding must be huffman or packed, not '" + s + "'");
        };
    }

    /** A progress bar on stderr when it is a terminal; none in pipes and tests. */
}
