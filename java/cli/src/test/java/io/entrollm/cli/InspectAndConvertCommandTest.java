package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.safetensors.ShardedSafetensors;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class InspectAndConvertCommandTest {
    @TempDir Path tmp;

    private Path shardedCopy() throws IOException {
        Path dir = tmp.resolve("sotu-sharded");
        try (ModelSource src = ModelSources.open(TestModels.sotuTiny())) {
            ShardedSafetensors.write(dir, src.tensors(), 3 << 20);
        }
        for (String f : List.of("config.json", "tokenizer.json")) Files.copy(TestModels.sotuTiny().resolve(f), dir.resolve(f));
        return dir;
    }

    @Test
    void inspectOfAShardedCopyListsAllTensorsAndTheConfig() throws IOException {
        Path dir = shardedCopy();
        Path json = tmp.resolve("inspect.json");
        CliRun run = CliRun.of("inspect", dir.toString(), "--json", json.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertThat(run.out()).contains("shards)").contains("tensors: 74")
                .contains("hidden 256, layers 8, heads 8, kv heads 4").contains("vocab 4096").contains("tied embeddings true")
                .contains("model.layers.7.mlp.down_proj.weight").contains("[256,768]");
        long tableRows = Arrays.stream(run.out().split("\n")).filter(l -> l.startsWith("model.") || l.startsWith("lm_head")).count();
        assertEquals(74, tableRows);

        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertEquals(74, report.get("tensors").size());
        JsonNode emb = report.get("tensors").get(0);
        assertEquals("model.embed_tokens.weight", emb.get("name").asText());
        assertEquals("[4096,256]", emb.get("shape").toString());
        assertEquals(256, report.get("config").get("hiddenSize").asInt());

        // the GPU memory each residency mode needs, as the planner computes it (context: the model's 1024 maximum)
        assertThat(run.out()).contains("GPU memory (context 1024 tokens): decoded ");
        try (ModelSource hf = ModelSources.openHuggingFace(dir)) {
            io.entrollm.residency.ModelFootprint f = io.entrollm.residency.ModelFootprint.of(hf, 1024);
            JsonNode r = report.get("residency");
            assertEquals(1024, r.get("context").asInt());
            assertEquals(f.requiredBytes(io.entrollm.residency.ResidencyMode.DECODED), r.get("decoded_gpu_bytes").asLong());
            assertEquals(f.requiredBytes(io.entrollm.residency.ResidencyMode.COMPRESSED), r.get("compressed_gpu_bytes").asLong());
            assertEquals(f.requiredBytes(io.entrollm.residency.ResidencyMode.STREAMED), r.get("streamed_gpu_bytes").asLong());
            assertEquals(f.codedBytes(), r.get("streamed_pinned_host_bytes").asLong());
        }
        CliRun ctx = CliRun.of("inspect", dir.toString(), "--no-stats", "--context", "64");
        assertEquals(0, ctx.exitCode(), ctx.err());
        assertThat(ctx.out()).contains("GPU memory (context 64 tokens)");
    }

    @Test
    void convertThenInspectGguf() {
        Path gguf = tmp.resolve("m.gguf");
        CliRun conv = CliRun.of("convert", TestModels.sotuTiny().toString(), "-o", gguf.toString());
        assertEquals(0, conv.exitCode(), conv.err());
        CliRun run = CliRun.of("inspect", gguf.toString(), "--no-stats");
        assertEquals(0, run.exitCode(), run.err());
        assertThat(run.out()).contains("GGUF v3").contains("blk.0.attn_q.weight").contains("llama.attention.head_count_kv")
                .contains("tokenizer.ggml.tokens").contains("[4096 x STRING]").contains("tensors: 74");
    }

    @Test
    void corruptInputGivesOneErrorLineAndExitOne() throws IOException {
        byte[] full = Files.readAllBytes(TestModels.sotuTiny().resolve("model.safetensors"));
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(full, full.length / 2));
        CliRun run = CliRun.of("inspect", cut.toString());
        assertEquals(1, run.exitCode());
        assertEquals(1, run.errLines().length, run.err());
        assertThat(run.err()).contains(cut.toString()).contains("past the end");

        Path gguf = tmp.resolve("bad.gguf");
        Files.write(gguf, new byte[] {'G', 'G', 'U', 'F', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        run = CliRun.of("inspect", gguf.toString());
        assertEquals(1, run.exitCode());
        assertEquals(1, run.errLines().length, run.err());
        assertThat(run.err()).contains("bad.gguf").contains("unsupported GGUF version 9");

        run = CliRun.of("inspect", tmp.resolve("missing").toString());
        assertEquals(1, run.exitCode());
        assertThat(run.err()).contains("no such file");
    }

    @Test
    void failedConvertLeavesNoOutput() throws IOException {
        Path lone = tmp.resolve("lone");
        Files.createDirectories(lone);
        Files.copy(TestModels.sotuTiny().resolve("model.safetensors"), lone.resolve("model.safetensors"));
        Path out = tmp.resolve("x.gguf");
        CliRun run = CliRun.of("convert", lone.toString(), "-o", out.toString());
        assertEquals(1, run.exitCode());
        assertThat(run.err()).contains("no config.json");
        assertFalse(Files.exists(out));
    }

    @Test
    void convertingAnEntroFileWritesBf16NotFloat32() throws java.io.IOException {
        java.nio.file.Path entro = tmp.resolve("c.entro"), gguf = tmp.resolve("c.gguf");
        assertEquals(0, CliRun.of("compress", io.entrollm.testing.TestModels.sotuTiny().toString(), "-o", entro.toString(), "--bits", "8").exitCode());
        CliRun r = CliRun.of("convert", entro.toString(), "-o", gguf.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (var f = io.entrollm.format.gguf.GgufFile.open(gguf)) {
            var t = f.tensors().stream().filter(x -> x.name().equals("blk.0.ffn_down.weight")).findFirst().orElseThrow();
            assertEquals(io.entrollm.tensor.DType.BF16, t.dtype());
        }
    }
}
