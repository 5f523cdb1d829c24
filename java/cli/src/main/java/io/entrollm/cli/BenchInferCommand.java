package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.gpu.Cuda;
import io.entrollm.gpu.DecodeBenchmark;
import io.entrollm.gpu.GpuSessions;
import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import io.entrollm.io.AtomicFile;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.residency.ModelFootprint;
import io.entrollm.residency.ResidencyMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code entrollm bench infer}: llama-bench-style inference rows, model x format x residency mode:
 * prompt-processing and generation tokens/s (median and spread of repetitions after a warm-up), the
 * weight bytes each generated token reads, and GPU memory in use. Formats are made on the fly from the
 * source model: bf16 (the source), uint8 / uint4 (packed, no entropy coding) and entro-u8 / entro-u4
 * (Huffman-coded), all quantized per tensor with the same scheme.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Inference benchmark: rows of model x format x mode with prompt/generation tokens/s, bytes per token, GPU memory.")
final class BenchInferCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", arity = "1..*", description = "Source models (Hugging Face directory, .safetensors or .gguf).")
    List<Path> models;

    @Option(names = "--formats", split = ",", defaultValue = "bf16,uint8,uint4,entro-u8,entro-u4", description = "Default: ${DEFAULT-VALUE}.")
    List<String> formats;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--modes", split = ",", defaultValue = "decoded,compressed",
            description = "GPU residency modes (compressed applies to .entro formats). Default: ${DEFAULT-VALUE}.")
    List<String> modes;

    @Option(names = "--prompt-tokens", defaultValue = "64") int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "64") int genTokens;

    @Option(names = "--repetitions", defaultValue = "5") int repetitions;

    @Option(names = "--markdown", paramLabel = "FILE") Path markdown;

    @Option(names = "--csv", paramLabel = "FILE") Path csv;

    @Option(names = "--json", paramLabel = "FILE") Path json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** One row: medians and the spread (max - min) of the repetitions. */
    record Row(String model, String format, String mode, String device, long weightBytes, long bytesPerToken, double ppTokPerSec,
               double ppSpread, double tgTokPerSec, double tgSpread, long gpuMemoryBytes) {}

    @Override
    public Integer call() throws Exception {
        if (!List.of("cpu", "gpu").contains(device)) throw new IllegalArgumentException("--device must be cpu or gpu");
        if (device.equals("gpu") && !Cuda.available()) throw new IllegalArgumentException("--device gpu: " + Cuda.unavailableReason());
        if (repetitions < 1 || promptTokens < 1 || genTokens < 1) throw new IllegalArgumentException("--repetitions, --prompt-tokens and --gen-tokens must be positive");
        for (String f : formats) format(f);
        List<ResidencyMode> gpuModes = modes.stream().map(m -> ResidencyMode.valueOf(m.toUpperCase(java.util.Locale.ROOT))).toList();
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        try (TempDir tmpDir = TempDir.create("entrollm-bench")) {
            Path tmp = tmpDir.path();
            for (Path model : models) {
                for (String f : formats) {
                    Path file = materialise(model, f, tmp);
                    List<ResidencyMode> ms = device.equals("cpu") ? List.of(ResidencyMode.DECODED)
                            : gpuModes.stream().filter(m -> m != ResidencyMode.COMPRESSED || f.startsWith("entro")).toList();
                    for (ResidencyMode m : ms) rows.add(measure(model, f, file, m));
                }
            }
        }
        String md = markdown(rows);
        out.print(md);
        out.flush();
        if (markdown != null) write(markdown, md);
        if (csv != null) write(csv, csv(rows));
        if (json != null) JsonReports.write(json, json(rows));
        return 0;
    }

    /** bits and encoding of a format name, or null for the source as it is. */
    private static CompressOptions.Encoding format(String f) {
        return switch (f) {
            case "bf16" -> null;
            case "uint8", "uint4" -> CompressOptions.Encoding.PACKED;
            case "entro-u8", "entro-u4" -> CompressOptions.Encoding.HUFFMAN;
            default -> throw new IllegalArgumentException("unknown format '" + f + "' (bf16, uint8, uint4, entro-u8, entro-u4)");
        };
    }

    private static Path materialise(Path model, String f, Path tmp) throws Exception {
        CompressOptions.Encoding enc = format(f);
        if (enc == null) return model;
        int bits = f.endsWith("8") ? 8 : 4;
        Path out = tmp.resolve(model.getFileName() + "-" + f + ".entro");
        try (ModelSource src = ModelSources.openHuggingFace(model)) {
            EntroCompressor.compress(src, out, CompressOptions.defaults(bits, QuantScheme.MIXED, Granularity.TENSOR).withEncoding(enc), null);
        }
        return out;
    }

    private Row measure(Path model, String format, Path file, ResidencyMode mode) {
        try (LanguageModel lm = LanguageModel.load(file)) {
            ModelFootprint fp = ModelFootprint.of(lm.source(), promptTokens + genTokens);
            // bytes of weights each generated token reads: layers in their stored form where they stay coded, plus the rest
            long perToken = (mode == ResidencyMode.DECODED ? fp.decodedBytes() : fp.codedBytes()) + fp.otherDecodedBytes();
            long gpuBefore = 0;
            io.entrollm.gpu.CudaContext probe = device.equals("gpu") ? io.entrollm.gpu.CudaContext.open(0) : null;
            try {
                if (probe != null) gpuBefore = probe.memoryInfo()[0];
                try (LanguageModel.Session s = device.equals("cpu") ? lm.openCpuSession() : GpuSessions.open(lm, 0, mode)) {
                    long gpuUsed = probe == null ? 0 : gpuBefore - probe.memoryInfo()[0];
                    // a fixed pseudo-random prompt of exactly --prompt-tokens ids; generation never stops early at EOS
                    int[] prompt = new int[promptTokens];
                    for (int i = 0; i < prompt.length; i++) prompt[i] = 3 + (int) ((i * 7919L) % (lm.config().vocabSize() - 3));
                    Sampler sampler = Sampler.greedy();
                    s.generate(prompt, genTokens, sampler, java.util.Set.of(), t -> true); // warm-up: one full repetition (JIT, caches, GPU clocks)
                    double[] pp = new double[repetitions], tg = new double[repetitions];
                    for (int r = 0; r < repetitions; r++) {
                        Generator.Result g = s.generate(prompt, genTokens, sampler, java.util.Set.of(), t -> true);
                        pp[r] = g.promptTokensPerSecond();
                        tg[r] = g.generatedTokensPerSecond();
                    }
                    return new Row(model.getFileName().toString(), format, mode.name().toLowerCase(), s.device(), Files.size(weightsFile(file)),
                            perToken, DecodeBenchmark.median(pp), spread(pp), DecodeBenchmark.median(tg), spread(tg), gpuUsed);
                }
            } finally {
                if (probe != null) probe.close();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path weightsFile(Path p) {
        return Files.isDirectory(p) ? p.resolve("model.safetensors") : p;
    }

    private static double spread(double[] v) {
        return Arrays.stream(v).max().orElse(0) - Arrays.stream(v).min().orElse(0);
    }

    private String header() {
        String commit = "unknown";
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() == 0 && !line.isEmpty()) commit = line;
        } catch (Exception ignored) {
            // not a git checkout (a dist bundle): the commit stays unknown
        }
        return "machine: " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch") + ", Java "
                + Runtime.version() + "; device: " + device + "; commit: " + commit + "; prompt " + promptTokens + " tokens, generation "
                + genTokens + " tokens, median of " + repetitions + " after a warm-up";
    }

    private String markdown(List<Row> rows) {
        StringBuilder b = new StringBuilder(header()).append("\n\n");
        b.append("| model | format | mode | device | file MB | weight MB read / token | pp tok/s (spread) | tg tok/s (spread) | GPU MB |\n");
        b.append("|---|---|---|---|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            b.append(String.format(java.util.Locale.ROOT, "| %s | %s | %s | %s | %.2f | %.2f | %.1f (%.1f) | %.1f (%.1f) | %s |%n", r.model(), r.format(),
                    r.mode(), r.device(), r.weightBytes() / 1e6, r.bytesPerToken() / 1e6, r.ppTokPerSec(), r.ppSpread(), r.tgTokPerSec(),
                    r.tgSpread(), r.gpuMemoryBytes() == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f", r.gpuMemoryBytes() / 1e6)));
        }
        return b.toString();
    }

    private static String csv(List<Row> rows) {
        StringBuilder b = new StringBuilder("model,format,mode,device,file_bytes,weight_bytes_per_token,pp_tok_s,pp_spread,tg_tok_s,tg_spread,gpu_memory_bytes\n");
        for (Row r : rows) {
            b.append(String.join(",", r.model(), r.format(), r.mode(), '"' + r.device() + '"', Long.toString(r.weightBytes()),
                    Long.toString(r.bytesPerToken()), Double.toString(r.ppTokPerSec()), Double.toString(r.ppSpread()),
                    Double.toString(r.tgTokPerSec()), Double.toString(r.tgSpread()), Long.toString(r.gpuMemoryBytes()))).append('\n');
        }
        return b.toString();
    }

    private ObjectNode json(List<Row> rows) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("header", header());
        ArrayNode arr = root.putArray("rows");
        rows.forEach(r -> arr.add(m.valueToTree(r)));
        return root;
    }

    private static void write(Path file, String text) throws java.io.IOException {
        AtomicFile.write(file, text.getBytes(StandardCharsets.UTF_8));
    }
}
