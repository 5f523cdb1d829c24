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
        assertThat(r.out()).contains("device: cpu").contains("| sotu-tiny | entro-u4 | stored | cpu (");
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
        // the CPU computes from the stored form: a token reads bf16 > uint8 = entro-u8 (bytes) > uint4 = entro-u4 (nibbles)
        long[] layer = new long[5];
        for (int i = 0; i < 5; i++) layer[i] = rows.get(i).get("layerBytesPerToken").asLong();
        assertThat(layer[0]).isGreaterThan(layer[1]);
        assertThat(layer[1]).isGreaterThan(layer[2]);
        assertEquals(layer[1], layer[3]);
        assertEquals(layer[2], layer[4]);
        assertThat(rows.get(0).get("residentBytes").asLong()).isPositive();
        assertThat(Files.readString(md)).startsWith("machine:");
    }

    /** A synthetic model is marked as such in every output; quantized formats are deleted after its rows unless kept. */
    @Test
    void syntheticModelsAreMarked() throws IOException {
        Path model = tmp.resolve("tiny"), work = tmp.resolve("work"), json = tmp.resolve("b.json");
        CliRun synth = CliRun.of("synth", "tiny", model.toString(), "--like", TestModels.sotuTiny().toString());
        assertEquals(0, synth.exitCode(), synth.err());
        assertThat(synth.out()).contains("synthetic tiny");
        CliRun r = CliRun.of("bench", "infer", model.toString(), "--formats", "bf16,entro-u8", "--prompt-tokens", "4", "--gen-tokens", "2",
                "--repetitions", "1", "--work-dir", work.toString(), "--json", json.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.out()).contains("| tiny (synthetic) | entro-u8 | stored | cpu (").contains("resampled");
        JsonNode rows = new ObjectMapper().readTree(json.toFile()).get("rows");
        assertThat(rows.get(0).get("synthetic").asBoolean()).isTrue();
        try (var files = Files.list(work)) {
            assertThat(files.toList()).isEmpty();
        }
        CliRun kept = CliRun.of("bench", "infer", model.toString(), "--formats", "entro-u4", "--prompt-tokens", "4", "--gen-tokens", "2",
                "--repetitions", "1", "--work-dir", work.toString(), "--keep-formats");
        assertEquals(0, kept.exitCode(), kept.err());
        assertThat(work.resolve("tiny-entro-u4.entro")).exists();
    }

    @Test
    void gpuOnlyOptionsAreRefusedOnTheCpu() {
        CliRun r = CliRun.of("bench", "infer", TestModels.sotuTiny().toString(), "--gpu-memory-budget", "3GiB");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("--gpu-memory-budget and --stream-from apply to --device gpu");
        CliRun st = CliRun.of("bench", "infer", TestModels.sotuTiny().toString(), "--stream-from", "storage");
        assertEquals(1, st.exitCode());
        assertThat(st.err()).contains("apply to --device gpu");
        CliRun m = CliRun.of("bench", "infer", TestModels.sotuTiny().toString(), "--device", "gpu", "--modes", "paged");
        assertEquals(1, m.exitCode());
        assertThat(m.err()).satisfiesAnyOf(e -> assertThat(e).contains("unknown mode 'paged'"), e -> assertThat(e).contains("--device gpu:"));
    }

    @Test
    void synthListsPresetsAndRefusesToOverwrite() throws IOException {
        CliRun list = CliRun.of("synth", "--list");
        assertEquals(0, list.exitCode(), list.err());
        assertThat(list.out()).contains("| mistral-7b | mistralai/Mistral-7B-v0.1 | 32 | 4096 | 14336 | 32 / 8 | 32000 | 7.24 B |");
        Path busy = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(busy.resolve("keep.txt"), "mine");
        CliRun r = CliRun.of("synth", "tiny", busy.toString(), "--like", TestModels.sotuTiny().toString());
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("already exists").contains("busy");
        assertThat(Files.readString(busy.resolve("keep.txt"))).isEqualTo("mine");
        CliRun bad = CliRun.of("synth", "llama-405b", tmp.resolve("x").toString(), "--like", TestModels.sotuTiny().toString());
        assertEquals(1, bad.exitCode());
        assertThat(bad.err()).contains("unknown synthetic model 'llama-405b'");
        CliRun noDonor = CliRun.of("synth", "tiny", tmp.resolve("y").toString(), "--like", tmp.resolve("nowhere").toString());
        assertEquals(1, noDonor.exitCode());
        assertThat(noDonor.err()).contains("nowhere").contains("--like");
    }

    @Test
    void unknownFormatsAreRefused() {
        CliRun r = CliRun.of("bench", "infer", TestModels.sotuTiny().toString(), "--formats", "fp8");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("unknown format 'fp8'");
    }
}
