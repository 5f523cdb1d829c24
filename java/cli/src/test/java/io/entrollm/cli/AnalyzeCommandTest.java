package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AnalyzeCommandTest {
    @TempDir Path tmp;

    @Test
    void analyzeWritesJsonReportAndCharts() throws IOException {
        Path json = tmp.resolve("out.json"), report = tmp.resolve("out");
        CliRun r = CliRun.of("analyze", TestModels.sotuTiny().toString(), "--bits", "8,4", "--granularity", "tensor",
                "--codecs", "zstd-3,lz4,deflate-6", "--storage", "300,2000", "--repeats", "1", "--json", json.toString(),
                "--report", report.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.out()).contains("uint8 mixed tensor").contains("uint4 mixed tensor").contains("huffman").contains("zstd-3");
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, j.get("settings").size());
        for (JsonNode s : j.get("settings")) {
            assertEquals(4, s.get("codecs").size());
            for (JsonNode c : s.get("codecs")) assertThat(c.get("decodeMBps").asDouble()).isPositive();
            assertEquals(56, s.get("tensors").size());
        }
        assertThat(Files.exists(report.resolve("report.md"))).isTrue();
        assertThat(Files.exists(report.resolve("charts/ratio-vs-decode-u4-mixed-tensor.svg"))).isTrue();
        assertThat(Files.exists(report.resolve("charts/load-time-u8-mixed-tensor.png"))).isTrue();
    }

    @Test
    void badArgumentsFailWithOneLine() {
        CliRun r = CliRun.of("analyze", TestModels.sotuTiny().toString(), "--codecs", "zstd-3,rar");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("unknown codec 'rar'");
        r = CliRun.of("analyze", TestModels.sotuTiny().toString(), "--bits", "stored");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("no int8/uint8 weight matrices");
    }
}
