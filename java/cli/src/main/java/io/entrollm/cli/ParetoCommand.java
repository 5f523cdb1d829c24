package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.infer.LanguageModel;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.WeightErrors;
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
 * same protocol as {@code perplexity}; a table (markdown, CSV, JSON) and a chart, with each tool's front. With {@code
 * --weights} the score is the weights' reconstruction error instead ({@link WeightErrors}), for models whose perplexity
 * means nothing, such as the synthetic ones of {@code synth}.
 */
@Command(name = "pareto", mixinStandardHelpOptions = true, header = "Size against perplexity or weight error, ours and other tools'.",
        description = {"Compresses MODEL with each --settings entry, scores every file (and each --gguf) with the perplexity protocol, and",
                "prints bits per parameter (file bits / the model's parameters), perplexity, its change against MODEL itself, and the front.",
                "With --weights instead of --text: each file's weight matrices against MODEL's, the mean of their relative squared errors",
                "(the score of the front), the error of all their weights pooled, and the mean's signal-to-noise ratio in dB.",
                "Settings: BITS:GRANULARITY[:FLAG...], granularity tensor, channel or group:G; flags asym, sym, mixed, auto, search, f16, emb, embN",
                "(the embedding and head at 8 bits per row unless emb or embN says otherwise; emb0 keeps them as stored; embt: one scale), gptq, wsearch, gN with tX."})
final class ParetoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The unquantized model: directory, .safetensors or .gguf.")
    Path model;

    @Option(names = "--text", paramLabel = "FILE|DIR", description = "Held-out text to score (not the text a setting was calibrated on).")
    Path text;

    @Option(names = "--weights", description = "Score by the weights' reconstruction error against MODEL instead of perplexity (no --text).")
    boolean weights;

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

    @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg", description = "Also draw the score against bits per parameter.")
    Path chart;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var cli = spec.commandLine();
        List<ParetoSetting> ours = ParetoSetting.parseList(settings);   // every setting checked before any work
        if ((text == null) == !weights) throw new picocli.CommandLine.ParameterException(cli, "give --text (perplexity) or --weights (weight error), one of them");
        if (ctx < 2) throw new picocli.CommandLine.ParameterException(cli, "--ctx must be at least 2, is " + ctx);
        if (chart != null && !chart.toString().endsWith(".png") && !chart.toString().endsWith(".svg")) {
            throw new picocli.CommandLine.ParameterException(cli, "--chart must end in .png or .svg: " + chart);
        }
        for (Path g : ggufs) if (!Files.isRegularFile(g)) throw new java.nio.file.NoSuchFileException(g.toString());
        if (calibration != null && !Files.exists(calibration)) throw new java.nio.file.NoSuchFileException(calibration.toString());
        if (calibration != null && text != null && calibration.toAbsolutePath().normalize().equals(text.toAbsolutePath().normalize())) {
            throw new picocli.CommandLine.ParameterException(cli, "--calibration must not be the --text it is scored on");
        }
        boolean anyGptq = ours.stream().anyMatch(ParetoSetting::errorFeedback);
        if (calibration == null && ours.stream().anyMatch(ParetoSetting::needsCalibrationText)) {
            throw new picocli.CommandLine.ParameterException(cli, "the gptq and wsearch flags need --calibration (the text whose inputs weigh the errors)");
        }
        PrintWriter out = cli.getOut(), err = cli.getErr();
        long params;
        try (ModelSource s = ModelSources.openHuggingFace(model)) {
            params = s.tensors().stream().mapToLong(Tensor::elementCount).sum();
        }
        try (TempDir tmp = workDir == null ? TempDir.create("entrollm-pareto") : null) {
            Path dir = workDir != null ? Files.createDirectories(workDir) : tmp.path();
            List<ParetoRow> rows = new ArrayList<>();
            double reference = weights ? Double.NaN : perplexity(model, err, "source");
            rows.add(row("source", "as stored", model, params, new Score(weights ? 0 : reference, 0)));
            TargetBits.Calibration calibrated = null;   // the calibration text is read once, for the first tX or gptq setting
            for (ParetoSetting s : ours) {
                Path entro = dir.resolve(s.slug() + ".entro");
                err.printf("pareto: compressing %s%n", s.label());
                err.flush();
                if ((!Double.isNaN(s.targetBits()) || s.needsCalibrationText()) && calibrated == null) {
                    calibrated = TargetBits.calibrate(model, calibration, calibrationTokens, anyGptq, err);
                }
                CompressOptions weighed = s.weighSearch() ? s.options().withScaleSearchWeights(calibrated.meanSquares()) : s.options();
                CompressOptions o = Double.isNaN(s.targetBits()) ? weighed
                        : weighed.withTensorChoices(TargetBits.plan(model, weighed, s.targetBits(), s.targetGranularities(), calibrated, err).choices());
                if (s.errorFeedback()) o = o.withErrorFeedback(calibrated.grams());
                try (ModelSource src = ModelSources.openHuggingFace(model);
                     Progress bar = Progress.start("pareto: compressing " + s.label(), "tensors", src.tensorNames().size(), err)) {
                    EntroCompressor.compress(src, entro, o, (done, total, name) -> bar.stepTo(done, name));
                }
                rows.add(row("entrollm", s.label(), entro, params, score(entro, err, s.label(), reference)));
            }
            for (Path g : ggufs) rows.add(row("gguf", g.getFileName().toString(), g, params, score(g, err, g.getFileName().toString(), reference)));
            rows = ParetoRow.markFront(rows);
            print(out, rows, params);
            if (markdown != null) io.entrollm.io.AtomicFile.write(markdown, markdownTable(rows, params).getBytes(StandardCharsets.UTF_8));
            if (csv != null) io.entrollm.io.AtomicFile.write(csv, csvTable(rows).getBytes(StandardCharsets.UTF_8));
            if (json != null) JsonReports.write(json, jsonTable(rows, params));
            if (chart != null) {
                if (weights) ParetoChart.write(rows, "Weight error against size, " + model.getFileName(), "mean relative squared error", true, chart);
                else ParetoChart.write(rows, "Perplexity against size, " + model.getFileName(), "perplexity", false, chart);
            }
        }
        return 0;
    }

    /** A file's score and change ({@link ParetoRow}): perplexity and its change in percent, or the mean and pooled weight errors. */
    private record Score(double value, double change) {}

    /** The score of {@code file}: its perplexity against {@code reference} (the model's), or its weights' errors. */
    private Score score(Path file, PrintWriter err, String what, double reference) throws IOException {
        if (!weights) {
            double ppl = perplexity(file, err, what);
            return new Score(ppl, 100 * (ppl / reference - 1));
        }
        WeightErrors.Report r = weightErrors(file, err, what);
        WeightErrors.Matrix worst = r.worst();
        err.printf(Locale.ROOT, "pareto %s: mean relative error %.3e, worst %s %.3e%n", what, r.meanRelative(), worst.name(), worst.relative());
        err.flush();
        return new Score(r.meanRelative(), r.pooledRelative());
    }

    private WeightErrors.Report weightErrors(Path file, PrintWriter err, String what) throws IOException {
        try (ModelSource ref = ModelSources.openHuggingFace(model); ModelSource other = ModelSources.openHuggingFace(file);
             Progress progress = Progress.start("pareto " + what, "matrices", WeightErrors.matrixNames(ref).size(), err)) {
            return WeightErrors.compare(ref, other, progress::stepTo);
        }
    }

    private double perplexity(Path file, PrintWriter err, String what) throws IOException {
        try (LanguageModel lm = LanguageModel.load(file); LanguageModel.Session session = lm.openCpuSession(threads)) {
            return PerplexityCommand.score(session, PerplexityCommand.tokens(lm, file, text, maxChars), ctx, "pareto " + what, err).perplexity();
        }
    }

    private static ParetoRow row(String tool, String setting, Path file, long params, Score score) throws IOException {
        long bytes = Files.isDirectory(file) ? directoryBytes(file) : Files.size(file);
        return new ParetoRow(tool, setting, file.toString(), bytes, 8.0 * bytes / params, score.value(), score.change(), false);
    }

    /** A Hugging Face folder's size: its weights (the .safetensors files). */
    private static long directoryBytes(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            long sum = 0;
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).toList()) sum += Files.size(f);
            return sum;
        }
    }

    /** The score columns' names: perplexity and its change, or the weight errors (mean, pooled, and the mean in dB). */
    private List<String> scoreColumns() {
        return weights ? List.of("mean rel. error", "pooled rel. error", "SNR dB") : List.of("perplexity", "change");
    }

    private List<String> scoreCells(ParetoRow r) {
        if (!weights) return List.of(String.format(Locale.ROOT, "%.4f", r.score()), String.format(Locale.ROOT, "%+.2f%%", r.change()));
        String db = r.score() > 0 ? String.format(Locale.ROOT, "%.2f", -10 * Math.log10(r.score())) : "inf";
        return List.of(String.format(Locale.ROOT, "%.3e", r.score()), String.format(Locale.ROOT, "%.3e", r.change()), db);
    }

    private void print(PrintWriter out, List<ParetoRow> rows, long params) {
        List<String> head = new ArrayList<>(List.of("tool", "setting", "file MiB", "bits/param"));
        head.addAll(scoreColumns());
        head.add("front");
        TextTable t = new TextTable(head.toArray(String[]::new));
        for (ParetoRow r : rows) {
            List<String> cells = new ArrayList<>(List.of(r.tool(), r.setting(), String.format(Locale.ROOT, "%.2f", r.bytes() / 1048576.0),
                    String.format(Locale.ROOT, "%.3f", r.bitsPerWeight())));
            cells.addAll(scoreCells(r));
            cells.add(r.front() ? "yes" : "");
            t.row(cells.toArray(String[]::new));
        }
        t.print(out);
        out.printf(weights ? "%,d parameters; errors = sum (w - w')^2 / sum w^2 over each weight matrix against the model's, by the same reader%n"
                : "%,d parameters; change = perplexity against the unquantized model's own, by the same code%n", params);
        out.flush();
    }

    private String markdownTable(List<ParetoRow> rows, long params) {
        List<String> scores = scoreColumns();
        StringBuilder b = new StringBuilder("| tool | setting | file bytes | bits / parameter | " + String.join(" | ", scores) + " | front |\n|---|---|---:|---:|"
                + "---:|".repeat(scores.size()) + "---|\n");
        for (ParetoRow r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.3f | %s | %s |%n", r.tool(), r.setting(), r.bytes(), r.bitsPerWeight(),
                    String.join(" | ", scoreCells(r)), r.front() ? "yes" : ""));
        }
        return b.append(String.format(Locale.ROOT, "%n%,d parameters.%n", params)).toString();
    }

    /** The JSON and CSV names of the score and change. */
    private List<String> scoreKeys() {
        return weights ? List.of("mean_relative_error", "pooled_relative_error") : List.of("perplexity", "change_percent");
    }

    private String csvTable(List<ParetoRow> rows) {
        List<String> keys = scoreKeys();
        StringBuilder b = new StringBuilder("tool,setting,file,bytes,bits_per_parameter," + keys.get(0) + "," + keys.get(1) + ",front\n");
        for (ParetoRow r : rows) {
            b.append(String.join(",", csvCell(r.tool()), csvCell(r.setting()), csvCell(r.file()), Long.toString(r.bytes()),
                    Double.toString(r.bitsPerWeight()), Double.toString(r.score()), Double.toString(r.change()), Boolean.toString(r.front()))).append('\n');
        }
        return b.toString();
    }

    private static String csvCell(String s) { return "\"" + s.replace("\"", "\"\"") + "\""; }

    private ObjectNode jsonTable(List<ParetoRow> rows, long params) {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("model", model.toString()).put("parameters", params);
        if (weights) root.put("measure", "weights");
        else root.put("measure", "perplexity").put("text", text.toString()).put("ctx", ctx).put("max_chars", maxChars);
        List<String> keys = scoreKeys();
        ArrayNode arr = root.putArray("rows");
        for (ParetoRow r : rows) {
            arr.addObject().put("tool", r.tool()).put("setting", r.setting()).put("file", r.file()).put("bytes", r.bytes())
                    .put("bits_per_parameter", r.bitsPerWeight()).put(keys.get(0), r.score()).put(keys.get(1), r.change())
                    .put("front", r.front());
        }
        return root;
    }
}
