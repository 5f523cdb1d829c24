package io.entrollm.analysis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.entrollm.io.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes an analysis as JSON and as a markdown report (with links to the charts). */
public final class AnalysisReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AnalysisReport() {}

    public static void writeJson(AnalysisResult r, Path file) throws IOException {
        write(file, JSON.writeValueAsBytes(r));
    }

    public static void writeMarkdown(AnalysisResult r, Path file, List<String> chartFiles) throws IOException {
        write(file, markdown(r, chartFiles).getBytes(StandardCharsets.UTF_8));
    }

    private static void write(Path file, byte[] bytes) throws IOException { AtomicFile.write(file, bytes); }

    static String markdown(AnalysisResult r, List<String> charts) {
        StringBuilder b = new StringBuilder();
        b.append("# Compressibility of ").append(Path.of(r.model()).getFileName()).append("\n\n");
        b.append("- model: `").append(r.model()).append("` (").append(r.format()).append(")\n");
        b.append("- machine: ").append(r.machine()).append("; codec speeds on ").append(r.threadsForSpeed())
                .append(" thread, MB/s of uncompressed bytes (medians)\n");
        b.append("- analysed: 2-D floating-point weights of at least ").append(Analyzer.MIN_WEIGHTS)
                .append(" elements; source bytes of those tensors: ").append(r.sourceBytes()).append("\n\n");
        b.append("## Source bytes (for reference)\n\n");
        codecTable(b, r.sourceCodecs());
        for (AnalysisResult.SettingResult s : r.settings()) {
            b.append("\n## ").append(s.setting().label()).append("\n\n");
            b.append(String.format(Locale.ROOT, "%d weights, packed %d bytes; entropy %.4f bits/weight (order 0), %.4f (pairs, per symbol)%n%n",
                    s.weights(), s.packedBytes(), s.entropyBits(), s.pairEntropyBits()));
            codecTable(b, s.codecs());
            b.append("\nLoad time of the quantized weights (s): sequential = read + decode, pipelined = max(read, decode), "
                    + "measured = a bandwidth-limited read of a file of that size + the measured decode time.\n\n");
            b.append("| codec |");
            for (double mbps : r.storageMBps()) b.append(String.format(Locale.ROOT, " %.0f MB/s seq | pipelined | measured |", mbps));
            b.append("\n|---|");
            b.append("---:|---:|---:|".repeat(r.storageMBps().size())).append("\n");
            for (String codec : s.loadTimes().stream().map(AnalysisResult.LoadTime::codec).distinct().toList()) {
                b.append("| ").append(codec).append(" |");
                for (AnalysisResult.LoadTime l : s.loadTimes()) {
                    if (l.codec().equals(codec)) {
                        b.append(String.format(Locale.ROOT, " %.3f | %.3f | %.3f |", l.sequentialSeconds(), l.pipelinedSeconds(), l.measuredSeconds()));
                    }
                }
                b.append("\n");
            }
            b.append("\nPer tensor (bits/weight):\n\n| tensor | scheme | entropy | pairs | huffman |");
            List<String> codecNames = s.tensors().get(0).codecBytes().keySet().stream().toList();
            for (String c : codecNames) b.append(" ").append(c).append(" |");
            b.append(" mse |\n|---|---|---:|---:|---:|").append("---:|".repeat(codecNames.size())).append("---:|\n");
            for (AnalysisResult.TensorResult t : s.tensors()) {
                b.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.3f |", t.name(), t.scheme(), t.entropyBits(), t.pairEntropyBits(),
                        8.0 * t.huffmanBytes() / t.weights()));
                for (String c : codecNames) b.append(String.format(Locale.ROOT, " %.3f |", 8.0 * t.codecBytes().get(c) / t.weights()));
                b.append(String.format(Locale.ROOT, " %.2e |%n", t.mse()));
            }
        }
        if (!charts.isEmpty()) {
            b.append("\n## Charts\n\n");
            for (String c : charts) if (c.endsWith(".png")) b.append("![").append(c).append("](").append(c).append(")\n");
        }
        return b.toString();
    }

    private static void codecTable(StringBuilder b, List<AnalysisResult.CodecResult> codecs) {
        b.append("| codec | compressed bytes | ratio | bits/weight | encode MB/s | decode MB/s | runs |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (AnalysisResult.CodecResult c : codecs) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f | %.1f | %.1f | %d |%n", c.codec(), c.compressedBytes(), c.ratio(),
                    c.bitsPerWeight(), c.encodeMBps(), c.decodeMBps(), c.repeats()));
        }
    }
}
