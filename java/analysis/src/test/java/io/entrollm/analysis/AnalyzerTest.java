package io.entrollm.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.safetensors.SafetensorsWriter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;
import io.entrollm.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AnalyzerTest {
    @TempDir Path tmp;

    @Test
    void analysesASmallModelAndWritesReportJsonAndCharts() throws IOException {
        Path st = tmp.resolve("m.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsWriter.write(st, List.of(
                    Fixtures.gaussian("a.weight", DType.BF16, new long[] {256, 128}, 0.02, 1, arena),
                    Fixtures.gaussian("b.weight", DType.F32, new long[] {64, 256}, 0.05, 2, arena),
                    Fixtures.gaussian("norm.weight", DType.F32, new long[] {256}, 1, 3, arena)), Map.of());
        }
        List<AnalysisSetting> settings = List.of(new AnalysisSetting(8, QuantScheme.ASYM, Granularity.TENSOR),
                new AnalysisSetting(4, QuantScheme.MIXED, Granularity.group(64)));
        AnalysisResult r;
        try (ModelSource m = ModelSources.open(st)) {
            r = Analyzer.analyze(m, new Analyzer.Options(settings, List.of("zstd-3", "lz4", "deflate-6"), List.of(100.0, 1000.0), 1, false, 2,
                    tmp.resolve("scratch")), (d, t, w) -> { });
        }
        assertEquals(2, r.settings().size());
        for (AnalysisResult.SettingResult s : r.settings()) {
            assertEquals(2, s.tensors().size(), "the 1-D norm is not analysed");
            assertEquals(List.of("huffman", "zstd-3", "lz4", "deflate-6"), s.codecs().stream().map(AnalysisResult.CodecResult::codec).toList());
            for (AnalysisResult.TensorResult t : s.tensors()) {
                double payload = (double) t.huffmanPayloadBits() / t.weights();
                assertThat(payload).as("Huffman >= entropy").isGreaterThanOrEqualTo(t.entropyBits() - 1e-9);
                assertThat(payload).as("Huffman <= entropy + 1").isLessThanOrEqualTo(t.entropyBits() + 1);
            }
            for (AnalysisResult.CodecResult c : s.codecs()) {
                assertThat(c.decodeMBps()).isPositive();
                assertEquals((double) s.packedBytes() / c.compressedBytes(), c.ratio(), 1e-12);
            }
            // 3 baselines-or-codecs x 2 bandwidths, plus packed and huffman
            assertEquals((s.codecs().size() + 1) * 2, s.loadTimes().size());
            for (AnalysisResult.LoadTime l : s.loadTimes()) {
                assertThat(l.pipelinedSeconds()).isLessThanOrEqualTo(l.sequentialSeconds());
                assertThat(l.measuredSeconds()).isGreaterThanOrEqualTo(0.9 * l.bytes() / (l.storageMBps() * 1e6));
            }
        }

        Path report = tmp.resolve("report");
        List<String> charts = AnalysisCharts.write(r, report.resolve("charts"));
        AnalysisReport.writeJson(r, report.resolve("analysis.json"));
        AnalysisReport.writeMarkdown(r, report.resolve("report.md"), charts);
        assertEquals(12, charts.size());
        for (String c : charts) assertThat(Files.size(report.resolve("charts").resolve(c))).as(c).isGreaterThan(1000);
        JsonNode json = new ObjectMapper().readTree(report.resolve("analysis.json").toFile());
        for (JsonNode s : json.get("settings")) {
            for (JsonNode c : s.get("codecs")) {
                assertThat(c.get("ratio").asDouble()).isPositive();
                assertThat(c.get("decodeMBps").asDouble()).isPositive();
            }
        }
        assertThat(Files.readString(report.resolve("report.md"))).contains("## uint8 asym tensor").contains("| zstd-3 |").contains("![");
    }
}
