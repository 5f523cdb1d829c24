package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BenchInferCommandTest {
    @TempDir Path tmp;

    @Test
    void rowsForEveryFormatInMarkdownCsvAndJson() throws IOException {
        Path md = tmp.resolve("b.md"), csv = tmp.resolve("b.csv"), json = tmp.resolve("b.json");
        CliRun r = CliRun.of("bench", "infer", TestModels.sotuTiny().toString(), "--prompt-tokens", "8", "--gen-tokens", "4",
                "--repetitions", "2", "--markdown", md.toString(), "--csv", csv.toString(), "--json", json.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.out()).contains("device: cpu").contains("| sotu-tiny | entro-u4 | decoded | cpu |");
        List<String> lines = Files.readAllLines(csv);
        assertEquals(1 + 5, lines.size());
        JsonNode rows = new ObjectMapper().readTree(json.toFile()).get("rows");
        assertEquals(5, rows.size());
        long bf16 = rows.get(0).get("weightBytes").asLong();
        for (JsonNode row : rows) {
            assertThat(row.get("tgTokPerSec").asDouble()).isPositive();
            assertThat(row.get("ppTokPerSec").asDouble()).isPositive();
        }
        // file sizes follow the formats: bf16 > uint8 > entro-u8 and uint4 > entro-u4
        assertThat(bf16).isGreaterThan(rows.get(1).get("weightBytes").asLong());
        assertThat(rows.get(1).get("weightBytes").asLong()).isGreaterThan(rows.get(3).get("weightBytes").asLong());
        assertThat(rows.get(2).get("weightBytes").asLong()).isGreaterThan(rows.get(4).get("weightBytes").asLong());
        assertThat(Files.readString(md)).startsWith("machine:");
    }

    @Test
    void unknownFormatsAreRefused() {
        CliRun r = CliRun.of("bench", "infer", TestModels.sotuTiny().toString(), "--formats", "fp8");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("unknown format 'fp8'");
    }
}
