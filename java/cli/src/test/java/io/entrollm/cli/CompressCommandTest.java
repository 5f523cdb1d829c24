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

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class CompressCommandTest {
    @TempDir Path tmp;

    @Test
    void compressInspectDecompress() throws IOException {
        Path entro = tmp.resolve("m.entro"), json = tmp.resolve("c.json"), inspectJson = tmp.resolve("i.json");
        CliRun c = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", entro.toString(), "--bits", "4",
                "--scheme", "mixed", "--granularity", "tensor", "--json", json.toString());
        assertEquals(0, c.exitCode(), c.err());
        assertThat(c.out()).contains("model.layers.0.mlp.down_proj.weight").contains("entropy b/w").contains("coded + overhead")
                .contains("x packed uint4").contains("x source");

        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertEquals(74, report.get("tensors").size());
        double bpw = report.get("totals").get("bits_per_weight").asDouble();
        assertThat(bpw).isBetween(report.get("totals").get("entropy_bits_per_weight").asDouble(), 4.0);

        CliRun i = CliRun.of("inspect", entro.toString(), "--json", inspectJson.toString());
        assertEquals(0, i.exitCode(), i.err());
        assertThat(i.out()).contains("checksums verified").contains("hidden 256");
        JsonNode fromFile = new ObjectMapper().readTree(inspectJson.toFile());
        assertEquals(bpw, fromFile.get("totals").get("bits_per_weight").asDouble(), 1e-12);

        Path dir = tmp.resolve("out");
        CliRun d = CliRun.of("decompress", entro.toString(), "-o", dir.toString(), "--dtype", "bf16");
        assertEquals(0, d.exitCode(), d.err());
        try (ModelSource m = ModelSources.open(dir)) {
            assertEquals(74, m.tensors().size());
            assertEquals(256, m.config().orElseThrow().hiddenSize());
            assertThat(m.tokenizerJson()).isPresent();
        }
        // the folder and its files are ordinary ones others may read, and the config says what the weights are
        assertThat(java.nio.file.Files.getPosixFilePermissions(dir)).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ,
                java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
        Path f32 = tmp.resolve("f32");
        assertEquals(0, CliRun.of("decompress", entro.toString(), "-o", f32.toString(), "--dtype", "f32").exitCode());
        assertThat(java.nio.file.Files.readString(f32.resolve("config.json"))).contains("\"float32\"").doesNotContain("bfloat16");
    }

    /**
     * --target-bits with a calibration text: widths differ per layer, the layers' coded size stays within
     * the target, the file runs; a target below the narrowest setting and a calibration without a target
     * are refused before anything is written.
     */
    @Test
    void targetBitsChooseEachLayersWidth() throws IOException {
        Path out = tmp.resolve("t.entro"), json = tmp.resolve("t.json");
        CliRun c = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", out.toString(), "--target-bits", "3.5",
                "--calibration", TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt").toString(), "--calibration-tokens", "300",
                "--json", json.toString());
        assertEquals(0, c.exitCode(), c.err());
        assertThat(c.err()).contains("[target-bits]").contains("weighted by the activations of moby-dick.txt");
        assertThat(c.out()).contains("per-layer bits (target 3.50)");
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        long weights = 0, bits = 0;
        for (JsonNode t : report.get("tensors")) {
            if (!t.has("coded_bits") || t.get("name").asText().contains("embed_tokens")) continue;   // the target is the layers'; the table has its own bits
            weights += t.get("weights").asLong();
            bits += t.get("coded_bits").asLong() + t.get("overhead_bits").asLong();
        }
        // the allocation counts symbols, chunk index and scales; the file adds each tensor's code lengths
        assertThat((double) bits / weights).isLessThanOrEqualTo(3.5 + 0.01);
        java.util.Set<Integer> widths = new java.util.TreeSet<>();
        try (io.entrollm.container.EntroFile f = io.entrollm.container.EntroFile.open(out)) {
            for (io.entrollm.container.EntroEntry e : f.entries()) if (e instanceof io.entrollm.container.EntroEntry.Coded coded) widths.add(coded.bits());
        }
        assertThat(widths.size()).as("widths " + widths).isGreaterThan(1);
        CliRun r = CliRun.of("run", out.toString(), "--prompt", "The", "--max-tokens", "4");
        assertEquals(0, r.exitCode(), r.err());

        Path none = tmp.resolve("none.entro");
        CliRun low = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", none.toString(), "--target-bits", "1");
        assertThat(low.exitCode()).isNotZero();
        assertThat(low.err()).contains("--target-bits 1.00 is below the smallest setting");
        CliRun alone = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", none.toString(), "--calibration", "x.txt");
        assertThat(alone.exitCode()).isNotZero();
        assertThat(alone.err()).contains("--calibration applies to --target-bits, --gptq and --scale-search");
        assertFalse(Files.exists(none));
    }

    /**
     * --gptq: the symbols come from error feedback on the calibration text (some differ from plain rounding's,
     * scales equal), the report says so without carrying the statistics, the file runs; without a text it is refused.
     */
    @Test
    void gptqSpreadsRoundingErrorsOverTheCalibrationInputs() throws IOException {
        Path plain = tmp.resolve("plain.entro"), fed = tmp.resolve("gptq.entro"), json = tmp.resolve("gptq.json");
        String text = TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt").toString();
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", plain.toString(), "--bits", "3").exitCode());
        CliRun c = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", fed.toString(), "--bits", "3", "--gptq",
                "--calibration", text, "--calibration-tokens", "300", "--json", json.toString());
        assertEquals(0, c.exitCode(), c.err());
        JsonNode settings = new ObjectMapper().readTree(json.toFile()).get("settings");
        assertThat(settings.get("gptq").asBoolean()).isTrue();
        assertThat(settings.has("errorFeedback")).isFalse();
        int differing = 0, tensors = 0;
        try (io.entrollm.container.EntroFile a = io.entrollm.container.EntroFile.open(plain);
             io.entrollm.container.EntroFile b = io.entrollm.container.EntroFile.open(fed)) {
            for (io.entrollm.container.EntroEntry e : a.entries()) {
                if (!(e instanceof io.entrollm.container.EntroEntry.Coded coded)) continue;
                io.entrollm.model.StoredTensor.Coded x = (io.entrollm.model.StoredTensor.Coded) a.stored(coded);
                io.entrollm.model.StoredTensor.Coded y = (io.entrollm.model.StoredTensor.Coded) b.stored((io.entrollm.container.EntroEntry.Coded) b.entries().stream()
                        .filter(f -> f.name().equals(coded.name())).findFirst().orElseThrow());
                byte[] sx = new byte[(int) coded.elementCount()], sy = new byte[sx.length];
                x.decodeInto(sx);
                y.decodeInto(sy);
                tensors++;
                if (!java.util.Arrays.equals(sx, sy)) differing++;
            }
        }
        assertThat(differing).as("tensors whose symbols error feedback changed, of " + tensors).isGreaterThan(tensors / 2);
        CliRun r = CliRun.of("run", fed.toString(), "--prompt", "The", "--max-tokens", "4");
        assertEquals(0, r.exitCode(), r.err());
        CliRun alone = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", tmp.resolve("none.entro").toString(), "--gptq");
        assertThat(alone.exitCode()).isNotZero();
        assertThat(alone.err()).contains("--gptq needs --calibration");
    }

    /**
     * The token embedding (tied head) is quantized at 8 bits with a scale per row unless told otherwise: {@code
     * --embedding-bits 0} keeps it as stored, {@code --include-embeddings} quantizes it like the layers.
     */
    @Test
    void theEmbeddingIsEightBitsPerRowByDefault() throws IOException {
        String emb = "model.embed_tokens.weight";
        Path byDefault = tmp.resolve("d.entro"), kept = tmp.resolve("k.entro"), likeLayers = tmp.resolve("l.entro"), six = tmp.resolve("6.entro");
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", byDefault.toString(), "--bits", "4").exitCode());
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", kept.toString(), "--bits", "4", "--embedding-bits", "0").exitCode());
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", likeLayers.toString(), "--bits", "4", "--include-embeddings").exitCode());
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", six.toString(), "--bits", "4", "--embedding-bits", "6",
                "--granularity", "group:64").exitCode());
        Path oneScale = tmp.resolve("t.entro");
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", oneScale.toString(), "--bits", "4",
                "--embedding-granularity", "tensor").exitCode());
        try (ModelSource d = ModelSources.open(byDefault); ModelSource k = ModelSources.open(kept); ModelSource l = ModelSources.open(likeLayers);
             ModelSource s6 = ModelSources.open(six)) {
            var q = (io.entrollm.model.StoredTensor.Quantized) d.stored(emb);
            assertEquals(8, q.bits());
            assertEquals(io.entrollm.quant.Granularity.CHANNEL, q.granularity());
            assertEquals(4, ((io.entrollm.model.StoredTensor.Quantized) d.stored("model.layers.0.mlp.up_proj.weight")).bits());
            assertThat(k.stored(emb)).isInstanceOf(io.entrollm.model.StoredTensor.Raw.class);
            var like = (io.entrollm.model.StoredTensor.Quantized) l.stored(emb);
            assertEquals(4, like.bits());
            assertEquals(io.entrollm.quant.Granularity.TENSOR, like.granularity());
            var q6 = (io.entrollm.model.StoredTensor.Quantized) s6.stored(emb);
            assertEquals(6, q6.bits());
            assertEquals(io.entrollm.quant.Granularity.CHANNEL, q6.granularity());
        }
        try (ModelSource t = ModelSources.open(oneScale)) {
            var q = (io.entrollm.model.StoredTensor.Quantized) t.stored(emb);
            assertEquals(8, q.bits());
            assertEquals(io.entrollm.quant.Granularity.TENSOR, q.granularity());
        }
        // one scale: each row keeps its narrow range in few levels, so the table codes in fewer bits than per row
        assertThat(Files.size(oneScale)).isLessThan(Files.size(byDefault) - 100_000);
        CliRun odd = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", tmp.resolve("o.entro").toString(), "--embedding-granularity", "group:100");
        assertEquals(1, odd.exitCode());
        assertEquals(1, odd.errLines().length, odd.err());
        assertThat(odd.err()).contains("embed_tokens").contains("does not divide");
        assertThat(Files.size(byDefault)).isLessThan(Files.size(kept) - 900_000);   // 2 MiB of bf16 table against ~1 MiB of 8-bit codes
        CliRun low = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", tmp.resolve("x.entro").toString(), "--bits", "4", "--max-code-length", "6");
        assertEquals(1, low.exitCode());
        assertThat(low.err()).contains("--max-code-length 6 is below the 8 bits of the embedding");
    }

    /** --scale-search with --calibration weighs each weight's error by its column's input energy: other scales, the same format. */
    @Test
    void aCalibrationTextWeighsTheScaleSearch() throws IOException {
        Path plain = tmp.resolve("s.entro"), weighed = tmp.resolve("w.entro"), json = tmp.resolve("w.json");
        String moby = TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt").toString();
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", plain.toString(), "--bits", "3", "--granularity", "channel",
                "--scale-search").exitCode());
        CliRun c = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", weighed.toString(), "--bits", "3", "--granularity", "channel",
                "--scale-search", "--calibration", moby, "--calibration-tokens", "300", "--json", json.toString());
        assertEquals(0, c.exitCode(), c.err());
        assertThat(new ObjectMapper().readTree(json.toFile()).get("settings").get("scale_search_weighted").asBoolean()).isTrue();
        int differ = 0;
        try (ModelSource a = ModelSources.open(plain); ModelSource b = ModelSources.open(weighed)) {
            for (String name : a.tensorNames()) {
                if (!(a.stored(name) instanceof io.entrollm.model.StoredTensor.Quantized qa) || name.contains("embed_tokens")) continue;
                var qb = (io.entrollm.model.StoredTensor.Quantized) b.stored(name);
                if (!java.util.Arrays.equals(qa.scales(), qb.scales())) differ++;
            }
        }
        assertThat(differ).as("layers whose scales the weighing moved").isGreaterThan(10);
        assertEquals(0, CliRun.of("run", weighed.toString(), "--prompt", "The", "--max-tokens", "4").exitCode());
    }

    @Test
    void packedBaselineCompressesToExactlyFourBitsAndRuns() {
        Path out = tmp.resolve("p.entro");
        CliRun c = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", out.toString(), "--bits", "4", "--encoding", "packed", "--embedding-bits", "0");
        assertEquals(0, c.exitCode(), c.err());
        assertThat(c.out()).contains("packed symbols (no entropy coding)").contains("packed:                       4.0000 bits/weight (no entropy coding)").doesNotContain("above entropy");
        CliRun i = CliRun.of("inspect", out.toString());
        assertEquals(0, i.exitCode(), i.err());
        CliRun r = CliRun.of("run", out.toString(), "--prompt", "The", "--max-tokens", "4");
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void badOptionsAndCorruptFilesFailCleanly() throws IOException {
        Path out = tmp.resolve("x.entro");
        CliRun r = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", out.toString(), "--bits", "4", "--granularity", "group:100");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.errLines().length, r.err());
        assertThat(r.err()).contains("does not divide");
        assertFalse(Files.exists(out));

        r = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", out.toString(), "--encoding", "zip");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("--encoding must be huffman or packed");

        r = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", out.toString(), "--bits", "9");
        assertEquals(1, r.exitCode());
        assertThat(r.err()).contains("--bits must be 2..8");

        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", out.toString()).exitCode());
        byte[] b = Files.readAllBytes(out);
        b[b.length / 2] ^= 1;
        Files.write(out, b);
        r = CliRun.of("inspect", out.toString());
        assertEquals(1, r.exitCode());
        assertEquals(1, r.errLines().length, r.err());
        assertThat(r.err()).contains("x.entro").contains("checksum mismatch");
    }
}
