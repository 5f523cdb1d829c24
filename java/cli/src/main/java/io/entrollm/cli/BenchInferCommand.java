package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.gpu.Cuda;
import io.entrollm.gpu.CudaContext;
import io.entrollm.gpu.DecodeBenchmark;
import io.entrollm.gpu.LayerTimeline;
import io.entrollm.gpu.LlamaGpu;
import io.entrollm.infer.CpuCausalLm;
import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.LlamaWeights;
import io.entrollm.infer.Sampler;
import io.entrollm.io.AtomicFile;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.residency.ModelFootprint;
import io.entrollm.residency.ResidencyMode;
import io.entrollm.residency.ResidencyPlanner;
import io.entrollm.residency.StreamSource;
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
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code entrollm bench infer}: llama-bench-style inference rows, model x format x residency mode:
 * prompt-processing and generation tokens/s (median and spread of repetitions after a warm-up), the
 * weight bytes each generated token moves, decode and host-to-device GB/s (from one profiled
 * generated token, CUDA events), GPU memory in use next to the plan. Formats are made on the fly from
 * the source model: bf16 (the source), uint8 / uint4 (packed, no entropy coding) and entro-u8 /
 * entro-u4 (Huffman-coded), all quantized per tensor with the same scheme, so every ratio compares
 * like with like. Synthetic models (written by {@code entrollm synth}) are marked in the model column.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Inference benchmark: rows of model x format x mode with prompt/generation tokens/s, decode and H2D GB/s, bytes per token, GPU memory.")
final class BenchInferCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", arity = "1..*", description = "Source models (Hugging Face directory, .safetensors or .gguf).")
    List<Path> models;

    @Option(names = "--formats", split = ",", defaultValue = "bf16,uint8,uint4,entro-u8,entro-u4", description = "Default: ${DEFAULT-VALUE}.")
    List<String> formats;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads for --device cpu (0: every core). Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--modes", split = ",", defaultValue = "decoded,compressed,streamed",
            description = "GPU residency modes: decoded, compressed, streamed, and fused (experimental: compressed, generated tokens multiplied "
                    + "straight from the Huffman-coded weights). Default: ${DEFAULT-VALUE}.")
    List<String> modes;

    /** A residency mode, and whether generation multiplies straight from the coded weights (the fused mode). */
    record GpuMode(ResidencyMode mode, boolean fused) {}

    @Option(names = "--stream-from", split = ",", defaultValue = "host",
            description = "Where streamed rows keep the layers: host (pinned at load), storage (read from the mapped file each pass), or both. Default: ${DEFAULT-VALUE}.")
    List<String> streamFrom;

    @Option(names = "--gpu-memory-budget", paramLabel = "SIZE",
            description = "Skip the rows whose mode needs more GPU memory than this (planned from the file), e.g. 3GiB for a 4 GB Jetson.")
    String budget;

    @Option(names = "--prompt-tokens", defaultValue = "64", description = "Prompt length in tokens (processed as one batch). Default: ${DEFAULT-VALUE}.") int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "64", description = "Tokens generated after the prompt (no stop at end-of-sequence). Default: ${DEFAULT-VALUE}.") int genTokens;

    @Option(names = "--repetitions", defaultValue = "5", description = "Timed runs per row; the table shows medians. Default: ${DEFAULT-VALUE}.") int repetitions;

    @Option(names = "--markdown", paramLabel = "FILE", description = "Also write the table as Markdown (for docs/BENCHMARKS.md).") Path markdown;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the table as CSV.") Path csv;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON (every repetition, machine and settings).") Path json;

    @Option(names = "--timeline", paramLabel = "DIR",
            description = "Write each GPU row's per-layer copy/decode/compute timeline of one generated token as CSV into DIR.")
    Path timelineDir;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the quantized formats are written (default: a temporary directory).")
    Path workDir;

    @Option(names = "--keep-formats", description = "Keep each model's quantized formats in --work-dir (and reuse them next time); "
            + "by default they are deleted once the model's rows are done, so the disk holds one model's formats at a time.")
    boolean keepFormats;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /**
     * One row: medians and the spread (max - min) of the repetitions; GB/s are NaN where the mode moves
     * no weights per token; GPU bytes are 0 on the CPU.
     */
    record Row(String model, boolean synthetic, String format, String mode, String device, long weightBytes, long layerBytesPerToken,
               long headBytesPerToken,
               double ppTokPerSec, double ppSpread, double tgTokPerSec, double tgSpread, double decodeGBps, double h2dGBps,
               long gpuMemoryBytes, long plannedGpuBytes, long residentBytes, io.entrollm.gpu.GpuTraffic gpuTrafficPerToken) {}

    @Override
    public Integer call() throws Exception {
        if (!List.of("cpu", "gpu").contains(device)) throw new IllegalArgumentException("--device must be cpu or gpu");
        if (device.equals("gpu") && !Cuda.available()) throw new IllegalArgumentException("--device gpu: " + Cuda.unavailableReason());
        if (repetitions < 1 || promptTokens < 1 || genTokens < 2) {
            throw new IllegalArgumentException("--repetitions and --prompt-tokens must be positive, --gen-tokens at least 2 (the first token comes from the prompt pass)");
        }
        for (String f : formats) format(f);
        if (device.equals("cpu") && (budget != null || !streamFrom.equals(List.of("host")))) {
            throw new IllegalArgumentException("--gpu-memory-budget and --stream-from apply to --device gpu");
        }
        List<GpuMode> gpuModes = modes.stream().map(BenchInferCommand::mode).toList();
        List<StreamSource> sources = streamFrom.stream().flatMap(x -> x.equals("both") ? java.util.stream.Stream.of("host", "storage")
                : java.util.stream.Stream.of(x)).map(Devices::streamSource).distinct().toList();
        long budgetBytes = budget == null ? Long.MAX_VALUE : ResidencyPlanner.parseBytes(budget);
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        String gpu = "";
        if (device.equals("gpu")) {
            try (CudaContext ctx = CudaContext.open(0)) {
                gpu = "; GPU: " + ctx.deviceName() + " (sm " + ctx.computeCapability() + ", " + ctx.memoryInfo()[1] / (1 << 20) + " MiB), driver CUDA "
                        + ctx.driverVersion();
            }
        }
        PrintWriter log = spec.commandLine().getErr();
        try (TempDir tmpDir = TempDir.create("entrollm-bench")) {
            Path work = workDir != null ? Files.createDirectories(workDir) : tmpDir.path();
            if (timelineDir != null) Files.createDirectories(timelineDir);
            for (Path model : models) {
                for (String f : formats) {
                    long t0 = System.nanoTime();
                    Path file = materialise(model, f, work);
                    if (!file.equals(model)) log.printf(Locale.ROOT, "[bench] %s as %s: %.1f s%n", model.getFileName(), f, (System.nanoTime() - t0) / 1e9);
                    try {
                        List<GpuMode> ms = device.equals("cpu") ? List.of(new GpuMode(ResidencyMode.DECODED, false)) : gpuModes;
                        for (GpuMode m : ms) {
                            for (StreamSource from : m.mode() == ResidencyMode.STREAMED ? sources : List.of(StreamSource.HOST)) {
                                Row r = measure(model, f, file, m, from, budgetBytes, skipped);
                                if (r == null) continue;
                                rows.add(r);
                                log.printf(Locale.ROOT, "[bench] %s %s %s: pp %.1f tok/s, tg %.1f tok/s%n", r.model(), r.format(), r.mode(), r.ppTokPerSec(),
                                        r.tgTokPerSec());
                                log.flush();
                                // the tables so far, so a run stopped part-way (a time limit) still leaves its finished rows
                                writeReports(rows, gpu, skipped);
                            }
                        }
                    } finally {
                        if (!keepFormats && !file.equals(model)) Files.deleteIfExists(file);
                    }
                }
            }
        }
        String md = writeReports(rows, gpu, skipped);
        out.print(md);
        out.flush();
        return 0;
    }

    /** Writes the requested report files (atomically) and returns the markdown. */
    private String writeReports(List<Row> rows, String gpu, List<String> skipped) throws java.io.IOException {
        String md = markdown(rows, gpu, skipped);
        if (markdown != null) write(markdown, md);
        if (csv != null) write(csv, csv(rows));
        if (json != null) JsonReports.write(json, json(rows, gpu, skipped));
        return md;
    }

    private static GpuMode mode(String m) {
        if (m.trim().equalsIgnoreCase("fused")) return new GpuMode(ResidencyMode.COMPRESSED, true);
        try {
            return new GpuMode(ResidencyMode.valueOf(m.trim().toUpperCase(Locale.ROOT)), false);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown mode '" + m + "' (decoded, compressed, streamed, fused)");
        }
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

    /** The model in format {@code f}: the source itself for bf16, else a .entro in {@code work} (reused when already there). */
    private static Path materialise(Path model, String f, Path work) throws Exception {
        CompressOptions.Encoding enc = format(f);
        if (enc == null) return model;
        int bits = f.endsWith("8") ? 8 : 4;
        Path out = work.resolve(model.getFileName() + "-" + f + ".entro");
        if (Files.exists(out)) return out; // kept by an earlier --keep-formats run (atomic writes: never a partial file)
        try (ModelSource src = ModelSources.openHuggingFace(model)) {
            EntroCompressor.compress(src, out, CompressOptions.defaults(bits, QuantScheme.MIXED, Granularity.TENSOR).withEncoding(enc), null);
        }
        return out;
    }

    /** The mode's name in the rows: streamed from storage is its own row, and so is the fused mode. */
    private static String label(GpuMode mode, StreamSource from) {
        if (mode.fused()) return "compressed-fused";
        String m = mode.mode().name().toLowerCase(Locale.ROOT);
        return mode.mode() == ResidencyMode.STREAMED && from == StreamSource.STORAGE ? m + "-storage" : m;
    }

    private Row measure(Path model, String format, Path file, GpuMode gpuMode, StreamSource from, long budgetBytes, List<String> skipped)
            throws Exception {
        ResidencyMode mode = gpuMode.mode();
        try (LanguageModel lm = LanguageModel.load(file)) {
            ModelFootprint fp = ModelFootprint.of(lm.source(), promptTokens + genTokens, promptTokens);
            long planned = device.equals("gpu") ? fp.requiredBytes(mode) : 0;
            String name = model.getFileName().toString();
            if (planned > budgetBytes) {
                skipped.add(String.format(Locale.ROOT, "%s %s %s (needs %.1f MiB)", name, format, label(gpuMode, from), planned / 1048576.0));
                return null;
            }
            boolean synthetic = lm.source().configJson().map(j -> j.contains("\"entrollm_synthetic\"")).orElse(false);
            int[] prompt = new int[promptTokens];
            // a fixed pseudo-random prompt of exactly --prompt-tokens ids; generation never stops early at EOS
            for (int i = 0; i < prompt.length; i++) prompt[i] = 3 + (int) ((i * 7919L) % (lm.config().vocabSize() - 3));
            if (device.equals("cpu")) {
                // the CPU computes from the stored form: a token reads the layers' matrices as stored (int8/int4 symbols, bf16, ...)
                CpuCausalLm cpu = new CpuCausalLm(LlamaWeights.loadStored(lm.source()), threads);
                try (LanguageModel.Session s = lm.openSession(cpu)) {
                    double[][] t = repeat(s, prompt);
                    return new Row(name, synthetic, format, "stored", s.device() + " (" + cpu.threads() + " threads)", sizeOf(file),
                            cpu.weights().layerMatrixBytes(), cpu.weights().headBytes(),
                            DecodeBenchmark.median(t[0]), spread(t[0]), DecodeBenchmark.median(t[1]), spread(t[1]), Double.NaN, Double.NaN, 0, 0,
                            io.entrollm.residency.HostMemory.residentBytes().orElse(0), null);
                }
            }
            try (CudaContext ctx = CudaContext.open(0)) {
                long freeBefore = ctx.memoryInfo()[0];
                LlamaGpu gpu = LlamaGpu.load(ctx, lm.source(), mode, from, gpuMode.fused());
                try (LanguageModel.Session s = lm.openSession(gpu)) {
                    double[][] t = repeat(s, prompt);
                    long used = freeBefore - ctx.memoryInfo()[0];
                    // one more generation with CUDA events around every copy, decode and compute; its last pass is one token's
                    gpu.setProfiling(true);
                    s.generate(prompt, 2, Sampler.greedy(), java.util.Set.of(), x -> true);
                    List<LayerTimeline.Step> steps = gpu.lastTimeline();
                    io.entrollm.gpu.GpuTraffic traffic = gpu.lastTraffic();
                    gpu.setProfiling(false);
                    if (timelineDir != null && !steps.isEmpty()) {
                        write(timelineDir.resolve(name + "-" + format + "-" + label(gpuMode, from) + ".csv"), LayerTimeline.csv(steps));
                    }
                    return new Row(name, synthetic, format, label(gpuMode, from), s.device(), sizeOf(file),
                            fp.layerBytesPerToken(mode), fp.headReadBytes(), DecodeBenchmark.median(t[0]), spread(t[0]), DecodeBenchmark.median(t[1]), spread(t[1]),
                            LayerTimeline.gigabytesPerSecond(steps, LayerTimeline.Kind.DECODE),
                            LayerTimeline.gigabytesPerSecond(steps, LayerTimeline.Kind.COPY), used, planned,
                            io.entrollm.residency.HostMemory.residentBytes().orElse(0), traffic);
                }
            }
        }
    }

    /** A warm-up repetition, then {@code --repetitions}: prompt and generation tokens/s of each. */
    private double[][] repeat(LanguageModel.Session s, int[] prompt) {
        Sampler sampler = Sampler.greedy();
        s.generate(prompt, genTokens, sampler, java.util.Set.of(), t -> true); // warm-up: JIT, caches, GPU clocks
        double[] pp = new double[repetitions], tg = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            Generator.Result g = s.generate(prompt, genTokens, sampler, java.util.Set.of(), t -> true);
            pp[r] = g.promptTokensPerSecond();
            tg[r] = g.generatedTokensPerSecond();
        }
        return new double[][] {pp, tg};
    }

    /** The format's size on disk: the file, or every safetensors shard of a directory. */
    private static long sizeOf(Path p) throws java.io.IOException {
        if (!Files.isDirectory(p)) return Files.size(p);
        try (var s = Files.list(p)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static double spread(double[] v) {
        return Arrays.stream(v).max().orElse(0) - Arrays.stream(v).min().orElse(0);
    }

    private String header(String gpu) {
        String commit = "unknown";
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() == 0 && !line.isEmpty()) commit = line;
        } catch (Exception ignored) {
            // not a git checkout (a dist bundle): the commit stays unknown
        }
        return "machine: " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch") + ", Java "
                + Runtime.version() + "; device: " + device + gpu + "; commit: " + commit + "; prompt " + promptTokens + " tokens, generation "
                + genTokens + " tokens, median of " + repetitions + " after a warm-up"
                + (budget == null ? "" : "; GPU memory budget " + budget);
    }

    private static String gbps(double v) { return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v); }

    private String markdown(List<Row> rows, String gpu, List<String> skipped) {
        StringBuilder b = new StringBuilder(header(gpu)).append("\n\n");
        b.append("| model | format | mode | device | file MB | layer MB / token | GPU MB / token: weights + decode + KV + act. | pp tok/s (spread) | tg tok/s (spread) | decode GB/s | H2D GB/s | GPU MB used (planned) | RSS MB |\n");
        b.append("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            io.entrollm.gpu.GpuTraffic g = r.gpuTrafficPerToken();
            String traffic = g == null ? "-" : String.format(Locale.ROOT, "%.2f = %.2f + %.2f + %.2f + %.2f", g.total() / 1e6, g.weights() / 1e6,
                    g.decode() / 1e6, g.kvCache() / 1e6, g.activations() / 1e6);
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f | %.2f | %s | %.1f (%.1f) | %.1f (%.1f) | %s | %s | %s | %.0f |%n",
                    r.model() + (r.synthetic() ? " (synthetic)" : ""), r.format(), r.mode(), r.device(), r.weightBytes() / 1e6,
                    r.layerBytesPerToken() / 1e6, traffic, r.ppTokPerSec(), r.ppSpread(), r.tgTokPerSec(), r.tgSpread(), gbps(r.decodeGBps()), gbps(r.h2dGBps()),
                    r.plannedGpuBytes() == 0 ? "-" : String.format(Locale.ROOT, "%.1f (%.1f)", r.gpuMemoryBytes() / 1e6, r.plannedGpuBytes() / 1e6),
                    r.residentBytes() / 1e6));
        }
        if (rows.stream().anyMatch(Row::synthetic)) {
            b.append("\n(synthetic): a real model's shapes, values resampled per role from a trained donor (entrollm synth): sizes and matmuls are "
                    + "the real model's; entropy, so coded size and bytes moved, are the donor's.\n");
        }
        b.append("\nlayer MB / token: the decoder layers' weights one token moves: on the CPU the matrices as computed from (stored: int8/int4 "
                + "symbols, bf16; Huffman decoded once at load); on the GPU the weights' form read from memory (decoded: packed symbols with "
                + "their scales, stored halves), stored bytes read by the decoder (compressed) or copied from the host (streamed); each token also reads the head");
        rows.stream().map(r -> r.model() + " " + String.format(Locale.ROOT, "%.2f", r.headBytesPerToken() / 1e6) + " MB").distinct()
                .reduce((x, y) -> x + ", " + y).ifPresent(h -> b.append(" (").append(h).append(')'));
        b.append(".\nGPU MB / token: one generated token's reads and writes in GPU memory by the kernels' own accounting (io.entrollm.gpu.GpuTraffic): "
                + "weight forms read by the matmuls, norms and embedding; the per-pass decode (compressed, streamed); keys and values read by attention; "
                + "activations read and written by every kernel. Caches are not modelled.");
        b.append("\nRSS MB: the benchmark process's resident memory after the row (it holds one model at a time).\ndecode GB/s and H2D GB/s: stored bytes decoded / copied per second of decode / copy busy time during one generated token (CUDA events).\n");
        if (!skipped.isEmpty()) b.append("\nskipped, over the GPU memory budget: ").append(String.join("; ", skipped)).append('\n');
        return b.toString();
    }

    /** A traffic component, empty on CPU rows. */
    private static String traffic(Row r, java.util.function.ToLongFunction<io.entrollm.gpu.GpuTraffic> part) {
        return r.gpuTrafficPerToken() == null ? "" : Long.toString(part.applyAsLong(r.gpuTrafficPerToken()));
    }

    private static String csv(List<Row> rows) {
        StringBuilder b = new StringBuilder("model,synthetic,format,mode,device,file_bytes,layer_bytes_per_token,head_bytes_per_token,pp_tok_s,pp_spread,tg_tok_s,tg_spread,"
                + "decode_gb_s,h2d_gb_s,gpu_memory_bytes,planned_gpu_bytes,resident_bytes,gpu_weight_bytes_per_token,gpu_decode_bytes_per_token,"
                + "gpu_kv_bytes_per_token,gpu_activation_bytes_per_token\n");
        for (Row r : rows) {
            b.append(String.join(",", r.model(), Boolean.toString(r.synthetic()), r.format(), r.mode(), '"' + r.device() + '"',
                    Long.toString(r.weightBytes()), Long.toString(r.layerBytesPerToken()), Long.toString(r.headBytesPerToken()), Double.toString(r.ppTokPerSec()), Double.toString(r.ppSpread()),
                    Double.toString(r.tgTokPerSec()), Double.toString(r.tgSpread()), Double.toString(r.decodeGBps()), Double.toString(r.h2dGBps()),
                    Long.toString(r.gpuMemoryBytes()), Long.toString(r.plannedGpuBytes()), Long.toString(r.residentBytes()),
                    traffic(r, io.entrollm.gpu.GpuTraffic::weights), traffic(r, io.entrollm.gpu.GpuTraffic::decode), traffic(r, io.entrollm.gpu.GpuTraffic::kvCache),
                    traffic(r, io.entrollm.gpu.GpuTraffic::activations))).append('\n');
        }
        return b.toString();
    }

    private ObjectNode json(List<Row> rows, String gpu, List<String> skipped) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("header", header(gpu));
        ArrayNode arr = root.putArray("rows");
        rows.forEach(r -> arr.add(m.valueToTree(r)));
        ArrayNode sk = root.putArray("skipped");
        skipped.forEach(sk::add);
        return root;
    }

    private static void write(Path file, String text) throws java.io.IOException {
        AtomicFile.write(file, text.getBytes(StandardCharsets.UTF_8));
    }
}
