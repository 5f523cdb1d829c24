package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.infer.LanguageModel;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code entrollm pareto}: file size against perplexity for a list of our settings and for other tools' files of the
 * same model (llama.cpp's GGUF quantizations, read by our GGUF reader), every point evaluated by the same code with the
 * same protocol as {@code perplexity}; a table (markdown, CSV, JSON) and a chart, with each tool's front.
 */
@Command(name = "pareto", mixinStandardHelpOptions = true, header = "Size against perplexity: our settings and other tools' files.",
        description = {"Compresses MODEL with each --settings entry, scores every file (and each --gguf) with the perplexity protocol, and",
                "prints bits per parameter (file bits / the model's parameters), perplexity, its change against MODEL itself, and the front.",
                "Settings: BITS:GRANULARITY[:FLAG...], granularity tensor, channel or group:G; flags asym, sym, mixed, auto, search, f16, emb, embN."})
final class ParetoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The unquantized model: directory, .safetensors or .gguf.")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "FILE|DIR", description = "Held-out text to score (not the text a setting was calibrated on).")
    Path text;

    @Option(names = "--settings", defaultValue = "8:tensor,4:tensor,4:tensor:search,4:group:128:f16,4:group:32:f16,3:tensor:search",
            description = "Our settings, comma-separated. Default: ${DEFAULT-VALUE}.")
    String settings;

    @Option(names = "--gguf", paramLabel = "FILE", split = ",", description = "Other tools' files of the same model (e.g. llama.cpp's Q4_K_M), comma-separated or repeated.")
    List<Path> ggufs = new ArrayList<>();

    @Option(names = "--calibration", paramLabel = "FILE|DIR", description = "For tX settings (per-layer bits for a target) and the gptq flag "
            + "(error feedback): the text whose activations weigh each layer's error (not --text).")
    Path calibration;

    @Option(names = "--calibration-tokens", defaultValue = "8192", description = "At most this many tokens of --calibration. Default: ${DEFAULT-VALUE}.")
    int calibrationTokens;

    @Option(names = "--max-chars", defaultValue = "0", description = "Cut each document to N characters (0 = whole). Default: ${DEFAULT-VALUE}.")
    int maxChars;

    @Option(names = "--ctx", defaultValue = "256", description = "Perplexity window in tokens. Default: ${DEFAULT-VALUE}.")
    int ctx;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores). Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the .entro files are written and kept (default: a temporary folder, deleted after).")
    Path workDir;

    @Option(names = "--markdown", paramLabel = "FILE", description = "Also write the table as markdown.")
    Path markdown;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the table as CSV.")
    Path csv;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the table as JSON.")
    Path json;

    @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg", description = "Also draw perplexity against bits per parameter.")
    Path chart;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var cli = spec.commandLine();
        List<ParetoSetting> ours = ParetoSetting.parseList(settings);   // every setting checked before any work
        if (ctx < 2) throw new picocli.CommandLine.ParameterException(cli, "--ctx must be at least 2, is " + ctx);
        if (chart != null && !chart.toString().endsWith(".png") && !chart.toString().endsWith(".svg")) {
            throw new picocli.CommandLine.ParameterException(cli, "--chart must end in .png or .svg: " + chart);
        }
        for (Path g : ggufs) if (!Files.isRegularFile(g)) throw new java.nio.file.NoSuchFileException(g.toString());
        if (calibration != null && !Files.exists(calibration)) throw new java.nio.file.NoSuchFileException(calibration.toString());
        if (calibration != null && calibration.toAbsolutePath().normalize().equals(text.toAbsolutePath().normalize())) {
            throw new picocli.CommandLine.ParameterException(cli, "--calibration must not be the --text it is scored on");
        }
        boolean anyGptq = ours.stream().anyMatch(ParetoSetting::errorFeedback);
        if (calibration == null && anyGptq) {
            throw new picocli.CommandLine.ParameterException(cli, "the gptq flag needs --calibration (the text whose inputs the errors are spread by)");
        }
        PrintWriter out = cli.getOut(), err = cli.getErr();
        long params;
        try (ModelSource s = ModelSources.openHuggingFace(model)) {
            params = s.tensors().stream().mapToLong(Tensor::elementCount).sum();
        }
        try (TempDir tmp = workDir == null ? TempDir.create("entrollm-pareto") : null) {
            Path dir = workDir != null ? Files.createDirectories(workDir) : tmp.path();
            List<ParetoRow> rows = new ArrayList<>();
            double reference = perplexity(model, err, "source");
            rows.add(row("source", "as stored", model, params, reference, reference));
            TargetBits.Calibration calibrated = null;   // the calibration text is read once, for the first tX or gptq setting
            for (ParetoSetting s : ours) {
                Path entro = dir.resolve(s.slug() + ".entro");
                err.printf("pareto: compressing %s%n", s.label());
                err.flush();
                if ((!Double.isNaN(s.targetBits()) || s.errorFeedback()) && calibrated == null) {
                    calibrated = TargetBits.calibrate(model, calibration, calibrationTokens, anyGptq, err);
                }
                CompressOptions o = Double.isNaN(s.targetBits()) ? s.options()
                        : s.options().withTensorChoices(TargetBits.plan(model, s.options(), s.targetBits(), s.targetGranularities(), calibrated, err).choices());
                if (s.errorFeedback()) o = o.withErrorFeedback(calibrated.grams());
                try (ModelSource src = ModelSources.openHuggingFace(model)) {
                    EntroCompressor.compress(src, entro, o, null);
                }
                rows.add(row("entrollm", s.label(), entro, params, perplexity(entro, err, s.label()), reference));
            }
            for (Path g : ggufs) rows.add(row("gguf", g.getFileName().toString(), g, params, perplexity(g, err, g.getFileName().toString()), reference));
            rows = ParetoRow.markFront(rows);
            print(out, rows, params);
            if (markdown != null) io.entrollm.io.AtomicFile.write(markdown, markdownTable(rows, params).getBytes(StandardCharsets.UTF_8));
            if (csv != null) io.entrollm.io.AtomicFile.write(csv, csvTable(rows).getBytes(StandardCharsets.UTF_8));
            if (json != null) JsonReports.write(json, jsonTable(rows, params));
            if (chart != null) ParetoChart.write(rows, "Perplexity against size, " + model.getFileName(), chart);
        }
        return 0;
    }

    private double perplexity(Path file, PrintWriter err, String what) throws IOException {
        try (LanguageModel lm = LanguageModel.load(file); LanguageModel.Session session = lm.openCpuSession(threads)) {
            return PerplexityCommand.score(session, PerplexityCommand.tokens(lm, file, text, maxChars), ctx, "pareto " + what, err).perplexity();
        }
    }

    private static ParetoRow row(String tool, String setting, Path file, long params, double ppl, double reference) throws IOException {
        long bytes = Files.isDirectory(file) ? directoryBytes(file) : Files.size(file);
        return new ParetoRow(tool, setting, file.toString(), bytes, 8.0 * bytes / params, ppl, 100 * (ppl / reference - 1), false);
    }

    /** A Hugging Face folder's size: its weights (the .safetensors files). */
    private static long directoryBytes(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            long sum = 0;
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).toList()) sum += Files.size(f);
            return sum;
        }
    }

    private static void print(PrintWriter out, List<ParetoRow> rows, long params) {
        TextTable t = new TextTable("tool", "setting", "file MiB", "bits/param", "perplexity", "change", "front");
        for (ParetoRow r : rows) t.row(r.tool(), r.setting(), String.format(Locale.ROOT, "%.2f", r.bytes() / 1048576.0),
                String.format(Locale.ROOT, "%.3f", r.bitsPerWeight()), String.format(Locale.ROOT, "%.4f", r.perplexity()),
                String.format(Locale.ROOT, "%+.2f%%", r.deltaPercent()), r.front() ? "yes" : "");
        t.print(out);
        out.printf("%,d parameters; change = perplexity against the unquantized model's own, by the same code%n", params);
        out.flush();
    }

    private static String markdownTable(List<ParetoRow> rows, long params) {
        StringBuilder b = new StringBuilder("| tool | setting | file bytes | bits / parameter | perplexity | change | front |\n|---|---|---:|---:|---:|---:|---|\n");
        for (ParetoRow r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.3f | %.4f | %+.2f%% | %s |%n", r.tool(), r.setting(), r.bytes(), r.bitsPerWeight(),
                    r.perplexity(), r.deltaPercent(), r.front() ? "yes" : ""));
        }
        return b.append(String.format(Locale.ROOT, "%n%,d parameters.%n", params)).toString();
    }

    private static String csvTable(List<ParetoRow> rows) {
        StringBuilder b = new StringBuilder("tool,setting,file,bytes,bits_per_parameter,perplexity,change_percent,front\n");
        for (ParetoRow r : rows) {
            b.append(String.join(",", csvCell(r.tool()), csvCell(r.setting()), csvCell(r.file()), Long.toString(r.bytes()),
                    Double.toString(r.bitsPerWeight()), Double.toString(r.perplexity()), Double.toString(r.deltaPercent()), Boolean.toString(r.front()))).append('\n');
        }
        return b.toString();
    }

    private static String csvCell(String s) { return "\"" + s.replace("\"", "\"\"") + "\""; }

    private ObjectNode jsonTable(List<ParetoRow> rows, long params) {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("model", model.toString()).put("text", text.toString()).put("ctx", ctx).put("max_chars", maxChars).put("parameters", params);
        ArrayNode arr = root.putArray("rows");
        for (ParetoRow r : rows) {
            arr.addObject().put("tool", r.tool()).put("setting", r.setting()).put("file", r.file()).put("bytes", r.bytes())
                    .put("bits_per_parameter", r.bitsPerWeight()).put("perplexity", r.perplexity()).put("change_percent", r.deltaPercent())
                    .put("front", r.front());
        }
        return root;
    }
}
