package io.entrollm.cli;

import io.entrollm.analysis.AnalysisCharts;
import io.entrollm.analysis.AnalysisReport;
import io.entrollm.analysis.AnalysisResult;
import io.entrollm.analysis.AnalysisSetting;
import io.entrollm.analysis.Analyzer;
import io.entrollm.analysis.Codecs;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code entrollm analyze}: compressibility of the quantized weights under Huffman and general-purpose codecs. */
@Command(name = "analyze", mixinStandardHelpOptions = true, header = "Compressibility: our Huffman coding against general codecs.",
        description = {"Entropy of the quantized symbols and their size under our Huffman coding, zstd, lz4, deflate, xz and brotli;",
                "codec speeds; the time to load the model from storage of given bandwidths (modelled and measured)."})
final class AnalyzeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model directory, .safetensors, .gguf, .onnx or a .jar holding an .onnx")
    Path model;

    @Option(names = "--bits", split = ",", defaultValue = "8,4",
            description = "Bit widths (2..8), comma-separated; 'stored' analyses the int8/uint8 weights a model already ships. Default: ${DEFAULT-VALUE}.")
    List<String> bits;

    @Option(names = "--scheme", split = ",", defaultValue = "mixed", description = "Schemes, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> schemes;

    @Option(names = "--granularity", split = ",", defaultValue = "tensor,group:128", description = "Granularities. Default: ${DEFAULT-VALUE}.")
    List<String> granularities;

    @Option(names = "--codecs", split = ",", description = "Codecs to run (default: all of zstd-1, zstd-3, zstd-19, zstd-19-long, lz4, lz4-hc, deflate-6, deflate-9, xz-6, brotli-5, brotli-11).")
    List<String> codecs;

    @Option(names = "--storage", split = ",", defaultValue = "90,300,2000",
            description = "Storage bandwidths in MB/s for the load-time model (SD card, eMMC, NVMe). Default: ${DEFAULT-VALUE}.")
    List<Double> storage;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per codec (median; slow codecs stop after 1.5 s). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--threads", description = "Threads for the per-tensor sizes (default: all cores). Codec speeds are single-threaded.")
    Integer threads;

    @Option(names = "--include-embeddings", description = "Also analyse token embeddings and the LM head.")
    boolean includeEmbeddings;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the full results as JSON.")
    Path json;

    @Option(names = "--report", paramLabel = "DIR", description = "Write report.md, analysis.json and charts (PNG, SVG) into DIR.")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<AnalysisSetting> settings = new ArrayList<>();
        for (String b : bits) {
            if (b.equals("stored")) {
                settings.add(AnalysisSetting.STORED);
                continue;
            }
            int n;
            try {
                n = Integer.parseInt(b.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--bits takes numbers 2..8 or 'stored', not '" + b + "'");
            }
            for (String s : schemes) for (String g : granularities) settings.add(new AnalysisSetting(n, QuantScheme.parse(s), Granularity.parse(g)));
        }
        for (AnalysisSetting s : settings) if (s.bits() < 2 || s.bits() > 8) throw new IllegalArgumentException("--bits must be 2..8, not " + s.bits());
        for (double mbps : storage) if (mbps <= 0) throw new IllegalArgumentException("--storage bandwidths must be positive");
        List<String> codecNames = codecs == null ? Codecs.names() : codecs;
        Codecs.byNames(codecNames); // validates the names before any work
        PrintWriter out = spec.commandLine().getOut();
        AnalysisResult r;
        try (TempDir scratch = TempDir.create("entrollm-analyze"); ModelSource source = ModelSources.openHuggingFace(model);
             Progress bar = Progress.start("analyze", "steps", 1 + 3 * settings.size(), spec.commandLine().getErr())) {
            Analyzer.Options options = new Analyzer.Options(settings, codecNames, storage, repeats, includeEmbeddings,
                    threads != null ? threads : Runtime.getRuntime().availableProcessors(), scratch.path());
            r = Analyzer.analyze(source, options, (done, total, what) -> {
                bar.stepTo(done, what);
            });
        }
        print(out, r);
        if (json != null) AnalysisReport.writeJson(r, json);
        if (report != null) {
            Files.createDirectories(report);
            List<String> charts = AnalysisCharts.write(r, report.resolve("charts"));
            AnalysisReport.writeJson(r, report.resolve("analysis.json"));
            AnalysisReport.writeMarkdown(r, report.resolve("report.md"), charts.stream().map(c -> "charts/" + c).toList());
            out.println("wrote " + report.resolve("report.md") + ", analysis.json and " + charts.size() + " chart files");
        }
        return 0;
    }

    private static void print(PrintWriter out, AnalysisResult r) {
        out.println("model: " + r.model() + " (" + r.format() + "); " + r.machine() + "; speeds on 1 thread");
        for (AnalysisResult.SettingResult s : r.settings()) {
            out.printf("%n%s: %,d weights, packed %s, entropy %.4f bits/weight (pairs %.4f)%n", s.setting().label(), s.weights(),
                    Bytes.human(s.packedBytes()), s.entropyBits(), s.pairEntropyBits());
            TextTable t = new TextTable("codec", "bits/weight", "ratio", "encode MB/s", "decode MB/s");
            for (AnalysisResult.CodecResult c : s.codecs()) {
                t.row(c.codec(), String.format("%.3f", c.bitsPerWeight()), String.format("%.3f", c.ratio()),
                        String.format("%.1f", c.encodeMBps()), String.format("%.1f", c.decodeMBps()));
            }
            t.print(out);
        }
        out.flush();
    }
}
