package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code pareto} on the bundled model: every point scored like {@code perplexity} scores it, the front, the four outputs. */
class ParetoCommandTest {
    @TempDir Path tmp;

    @Test
    void scoresOurSettingsAndAGgufLikePerplexityDoesAndMarksTheFront() throws IOException {
        Path gguf = tmp.resolve("q8.gguf"), text = TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt");
        assertEquals(0, CliRun.of("convert", TestModels.sotuTiny().toString(), "-o", gguf.toString(), "--outtype", "q8_0").exitCode());
        Path json = tmp.resolve("p.json"), md = tmp.resolve("p.md"), csv = tmp.resolve("p.csv"), png = tmp.resolve("p.png"), work = tmp.resolve("work");
        CliRun r = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--text", text.toString(), "--max-chars", "4000",
                "--settings", "8:tensor,3:tensor,3:tensor:search:f16", "--gguf", gguf.toString(), "--work-dir", work.toString(),
                "--json", json.toString(), "--markdown", md.toString(), "--csv", csv.toString(), "--chart", png.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode rows = new ObjectMapper().readTree(json.toFile()).get("rows");
        assertEquals(5, rows.size());
        assertEquals(List.of("source", "entrollm", "entrollm", "entrollm", "gguf"), rows.findValuesAsText("tool"));
        // each point is what `perplexity` says of the same file
        Path u8 = work.resolve("entro-8_tensor.entro");
        Path pj = tmp.resolve("ppl.json");
        assertEquals(0, CliRun.of("perplexity", u8.toString(), "--text", text.toString(), "--max-chars", "4000", "--json", pj.toString()).exitCode());
        // (the Vector API's lane sums may round differently between the JIT's tiers: equal to 1e-7, not bit for bit)
        double expected = new ObjectMapper().readTree(pj.toFile()).get("ppl").asDouble();
        assertEquals(expected, rows.get(1).get("perplexity").asDouble(), 1e-7 * expected);
        assertEquals(Files.size(u8), rows.get(1).get("bytes").asLong());
        assertEquals(0.0, rows.get(0).get("change_percent").asDouble(), 1e-12);
        // the front: no point on it is beaten in both size and perplexity by another
        for (JsonNode a : rows) {
            boolean dominated = false;
            for (JsonNode b : rows) {
                double ab = a.get("bits_per_parameter").asDouble(), bb = b.get("bits_per_parameter").asDouble();
                double ap = a.get("perplexity").asDouble(), bp = b.get("perplexity").asDouble();
                if (b != a && bb <= ab && bp <= ap && (bb < ab || bp < ap)) dominated = true;
            }
            assertEquals(!dominated, a.get("front").asBoolean(), a.get("setting").asText());
        }
        assertThat(Files.readString(md)).contains("| entrollm | 3:tensor:search:f16 |");
        assertThat(Files.readAllLines(csv)).hasSize(6);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(Files.readAllBytes(png), 4));
        assertThat(r.out()).contains("bits/param").contains("front");
    }

    /** --weights scores each file by its weight matrices' relative squared errors against the model's, with no text. */
    @Test
    void weightsScoreTheReconstructionErrorOfEveryMatrix() throws IOException {
        Path gguf = tmp.resolve("q8.gguf"), json = tmp.resolve("w.json"), md = tmp.resolve("w.md"), work = tmp.resolve("work");
        assertEquals(0, CliRun.of("convert", TestModels.sotuTiny().toString(), "-o", gguf.toString(), "--outtype", "q8_0").exitCode());
        CliRun r = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--weights", "--settings", "8:tensor,3:tensor", "--gguf", gguf.toString(),
                "--work-dir", work.toString(), "--json", json.toString(), "--markdown", md.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals("weights", root.get("measure").asText());
        JsonNode rows = root.get("rows");
        assertEquals(List.of("source", "entrollm", "entrollm", "gguf"), rows.findValuesAsText("tool"));
        assertEquals(0.0, rows.get(0).get("mean_relative_error").asDouble());
        // the 8-bit file's score, computed here in float64 from both files' dequantized matrices
        double sum = 0;
        int matrices = 0;
        try (ModelSource ref = ModelSources.openHuggingFace(TestModels.sotuTiny()); ModelSource u8 = ModelSources.openHuggingFace(work.resolve("entro-8_tensor.entro"))) {
            for (String name : ref.tensorNames()) {
                if (ref.shape(name).orElseThrow().length != 2) continue;
                float[] w = ref.stored(name).dequantize(), q = u8.stored(name).dequantize();
                double e = 0, n = 0;
                for (int i = 0; i < w.length; i++) { e += Math.pow((double) w[i] - q[i], 2); n += (double) w[i] * w[i]; }
                sum += e / n;
                matrices++;
            }
        }
        assertThat(matrices).isGreaterThan(8);
        assertEquals(sum / matrices, rows.get(1).get("mean_relative_error").asDouble(), 1e-12 * sum / matrices);
        double u8 = rows.get(1).get("mean_relative_error").asDouble(), u3 = rows.get(2).get("mean_relative_error").asDouble();
        double q8 = rows.get(3).get("mean_relative_error").asDouble();
        assertThat(u8).isGreaterThan(0).isLessThan(1e-3);
        assertThat(u3).isGreaterThan(10 * u8).isLessThan(0.2);
        assertThat(q8).isGreaterThan(0).isLessThan(1e-3);
        for (JsonNode row : rows) assertThat(row.get("pooled_relative_error").asDouble()).isBetween(0.0, 1.0);
        assertThat(Files.readString(md)).contains("| mean rel. error | pooled rel. error | SNR dB |").contains("| entrollm | 3:tensor |");
        assertThat(r.out()).contains("SNR dB");
        // one measure: --text or --weights
        assertThat(CliRun.of("pareto", TestModels.sotuTiny().toString(), "--settings", "8:tensor").err()).contains("give --text (perplexity) or --weights");
        CliRun both = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--weights", "--text", "x.txt", "--settings", "8:tensor");
        assertThat(both.exitCode()).isNotZero();
        assertThat(both.err()).contains("one of them");
    }

    /** tX settings ask for per-layer widths at X bits a weight; a calibration text may not be the scored text. */
    @Test
    void targetSettingsAndTheirCalibration() {
        ParetoSetting t = ParetoSetting.parse("t3.5:tensor:search:emb8");
        assertEquals(3.5, t.targetBits());
        assertThat(t.options().scaleSearch()).isTrue();
        assertEquals(8, t.options().embeddingBits());
        // as compress: the embedding at 8 bits unless a flag says otherwise
        assertEquals(8, ParetoSetting.parse("4:tensor").options().embeddingBits());
        assertEquals(0, ParetoSetting.parse("4:tensor:emb0").options().embeddingBits());
        assertThat(ParetoSetting.parse("4:tensor:emb0").options().quantizesEmbeddings()).isFalse();
        assertEquals(0, ParetoSetting.parse("4:tensor:emb").options().embeddingBits());
        assertThat(ParetoSetting.parse("4:tensor:emb").options().quantizesEmbeddings()).isTrue();
        assertEquals(io.entrollm.quant.Granularity.CHANNEL, ParetoSetting.parse("4:tensor").options().granularityOf("model.embed_tokens.weight"));
        assertEquals(io.entrollm.quant.Granularity.TENSOR, ParetoSetting.parse("4:group:32:embt").options().granularityOf("model.embed_tokens.weight"));
        assertEquals(io.entrollm.quant.Granularity.group(32), ParetoSetting.parse("4:group:32:embt").options().granularityOf("model.layers.0.mlp.up_proj.weight"));
        assertThat(Double.isNaN(ParetoSetting.parse("4:tensor").targetBits())).isTrue();
        assertThat(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ParetoSetting.parse("tx:tensor")).getMessage())
                .contains("tX (a target");
        Path text = TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt");
        CliRun r = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--text", text.toString(), "--calibration", text.toString(), "--settings", "t4:tensor");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("--calibration must not be the --text it is scored on");
        assertThat(ParetoSetting.parse("t4:tensor:gptq").errorFeedback()).isTrue();
        assertThat(ParetoSetting.parse("t4:tensor").errorFeedback()).isFalse();
        CliRun g = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--text", text.toString(), "--settings", "4:tensor:gptq");
        assertThat(g.exitCode()).isNotZero();
        assertThat(g.err()).contains("the gptq and wsearch flags need --calibration");
        assertThat(ParetoSetting.parse("4:tensor:wsearch").weighSearch()).isTrue();
        assertThat(ParetoSetting.parse("4:tensor:wsearch").options().scaleSearch()).isTrue();
        CliRun w = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--text", text.toString(), "--settings", "4:tensor:wsearch");
        assertThat(w.exitCode()).isNotZero();
        assertThat(w.err()).contains("the gptq and wsearch flags need --calibration");
    }

    @Test
    void aBadSettingIsRefusedBeforeAnyWork() {
        CliRun r = CliRun.of("pareto", TestModels.sotuTiny().toString(), "--text", "nowhere.txt", "--settings", "4:tensor,4:blocks");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("setting '4:blocks'").contains("granularity");
    }
}
