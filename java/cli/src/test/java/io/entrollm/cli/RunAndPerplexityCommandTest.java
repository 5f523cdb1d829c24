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

class RunAndPerplexityCommandTest {
    @TempDir Path tmp;

    @Test
    void runGeneratesTheReferenceContinuationFromAnEntroFile() throws IOException {
        JsonNode prompt = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile()).get("prompts").get(0);
        CliRun greedyRef = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", prompt.get("text").asText(), "--max-tokens", "32");
        assertEquals(0, greedyRef.exitCode(), greedyRef.err());
        assertThat(greedyRef.out()).startsWith(prompt.get("text").asText() + prompt.get("greedy32_text").asText())
                .contains("generation: 32 tokens");

        Path entro = tmp.resolve("m.entro");
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", entro.toString(), "--bits", "8").exitCode());
        CliRun fromEntro = CliRun.of("run", entro.toString(), "--prompt", "The Congress", "--max-tokens", "8",
                "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--seed", "1");
        assertEquals(0, fromEntro.exitCode(), fromEntro.err());
        assertThat(fromEntro.out()).startsWith("The Congress").containsPattern("\\[cpu\\] prompt: \\d+ tokens, [0-9.]+ tok/s; generation: [1-8] tokens");
        assertEquals(fromEntro.out().lines().findFirst(), CliRun.of("run", entro.toString(), "--prompt", "The Congress", "--max-tokens", "8",
                "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--seed", "1").out().lines().findFirst(), "same seed, same text");
    }

    @Test
    void perplexityWritesJsonAndRejectsBadArguments() throws IOException {
        Path text = tmp.resolve("doc.txt"), json = tmp.resolve("p.json");
        Files.writeString(text, "  " + Files.readString(TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt")).substring(0, 5000) + "\n");
        CliRun r = CliRun.of("perplexity", TestModels.sotuTiny().toString(), "--text", text.toString(), "--max-chars", "3000",
                "--ctx", "128", "--json", json.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        long tokens = j.get("tokens").asLong();
        assertEquals(tokens - (tokens + 127) / 128, j.get("scored").asLong(), "each window scores n-1 tokens");
        assertThat(j.get("ppl").asDouble()).isBetween(10.0, 5000.0);

        CliRun bad = CliRun.of("perplexity", TestModels.sotuTiny().toString(), "--text", text.toString(), "--device", "tpu");
        assertEquals(1, bad.exitCode());
        assertThat(bad.err()).contains("--device must be cpu or gpu");
    }

    @Test
    void residencyOptionsAreCheckedBeforeAnythingRuns() {
        CliRun cpu = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "Hello", "--stream-from", "storage");
        assertEquals(1, cpu.exitCode());
        assertThat(cpu.err()).contains("apply to --device gpu");
        CliRun bad = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "Hello", "--device", "gpu", "--stream-from", "tape");
        assertEquals(1, bad.exitCode());
        assertThat(bad.err()).contains("--stream-from must be auto, host or storage, not 'tape'");
        CliRun mode = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "Hello", "--device", "gpu", "--residency", "paged");
        assertEquals(1, mode.exitCode());
        assertThat(mode.err()).contains("--residency must be auto, decoded, compressed or streamed, not 'paged'");
    }

    @Test
    void gpuWithoutADeviceIsOneClearError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(io.entrollm.gpu.Cuda.available(), "a GPU is present");
        CliRun r = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "Hello", "--device", "gpu");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.errLines().length, r.err());
        assertThat(r.err()).contains("no usable GPU");
    }
}
