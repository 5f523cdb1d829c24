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
        assertThat(greedyRef.out()).isEqualTo(prompt.get("text").asText() + prompt.get("greedy32_text").asText() + "\n");
        assertThat(greedyRef.err()).as("statistics go to stderr, the text alone to stdout").contains("generation: 32 tokens")
                .doesNotContain("seed:");

        Path entro = tmp.resolve("m.entro");
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", entro.toString(), "--bits", "8").exitCode());
        CliRun fromEntro = CliRun.of("run", entro.toString(), "--prompt", "The Congress", "--max-tokens", "8",
                "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--seed", "1");
        assertEquals(0, fromEntro.exitCode(), fromEntro.err());
        assertThat(fromEntro.out()).startsWith("The Congress");
        assertThat(fromEntro.err()).containsPattern("\\[cpu\\] prompt: \\d+ tokens, [0-9.]+ tok/s; generation: [1-8] tokens").contains("seed: 1\n");
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
        CliRun fused = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "Hello", "--device", "gpu", "--residency", "decoded", "--fused");
        assertEquals(1, fused.exitCode());
        assertThat(fused.err()).contains("--fused applies to --residency compressed");
    }

    @Test
    void gpuWithoutADeviceIsOneClearError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(io.entrollm.gpu.Cuda.available(), "a GPU is present");
        CliRun r = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "Hello", "--device", "gpu");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.errLines().length, r.err());
        assertThat(r.err()).contains("no usable GPU").contains("run on the CPU with --device cpu");
    }

    @Test
    void samplingArgumentsAreCheckedBeforeTheModelIsLoaded() {
        String missing = tmp.resolve("no-such-model").toString(); // loading it would fail: the argument error must come first
        for (String[] bad : new String[][] {{"--top-p", "2"}, {"--top-p", "0"}, {"--temperature", "-1"}, {"--temperature", "NaN"},
                {"--top-k", "-3"}, {"--max-tokens", "0"}}) {
            CliRun r = CliRun.of("run", missing, "--prompt", "Hello", bad[0], bad[1]);
            assertEquals(2, r.exitCode(), String.join(" ", bad) + ": " + r.err());
            assertThat(r.errLines()[0]).startsWith(bad[0] + " must");
        }
    }

    @Test
    void anUnseededSampledRunPrintsItsSeedAndThatSeedRepeatsIt() {
        String model = TestModels.sotuTiny().toString();
        CliRun first = CliRun.of("run", model, "--prompt", "The Congress", "--max-tokens", "6", "--temperature", "1.0");
        assertEquals(0, first.exitCode(), first.err());
        String seed = first.err().lines().filter(l -> l.startsWith("seed: ")).findFirst().orElseThrow().substring(6);
        CliRun again = CliRun.of("run", model, "--prompt", "The Congress", "--max-tokens", "6", "--temperature", "1.0", "--seed", seed);
        assertEquals(first.out(), again.out());
    }

    @Test
    void runJsonRecordsTheTextTokensAndSpeedOfTheRun() throws IOException {
        JsonNode prompt = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile()).get("prompts").get(0);
        Path json = tmp.resolve("run.json");
        CliRun greedy = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", prompt.get("text").asText(), "--max-tokens", "32",
                "--json", json.toString());
        assertEquals(0, greedy.exitCode(), greedy.err());
        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertEquals(prompt.get("greedy32_text").asText(), r.get("text").asText());
        assertEquals(prompt.get("greedy32"), r.get("tokens"));
        assertEquals(prompt.get("ids"), r.get("prompt_ids"));
        assertEquals(32, r.get("generated_tokens").asInt());
        assertEquals("length", r.get("finish_reason").asText());
        assertEquals("cpu", r.get("device").asText());
        assertThat(r.get("generation_tokens_per_second").asDouble()).isPositive();
        assertThat(r.has("seed")).as("greedy: no seed").isFalse();

        CliRun sampled = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "The", "--max-tokens", "3", "--temperature", "0.8",
                "--seed", "7", "--json", json.toString());
        assertEquals(0, sampled.exitCode(), sampled.err());
        assertEquals(7, new ObjectMapper().readTree(json.toFile()).get("seed").asLong());
    }

    @Test
    void moreTokensThanTheContextHoldsAreAnnouncedBeforeGenerating() {
        CliRun r = CliRun.of("run", TestModels.sotuTiny().toString(), "--prompt", "The", "--max-tokens", "100000");
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.errLines()[0]).startsWith("note: the model's context is ").contains("of --max-tokens 100000 can be generated");
    }

    @Test
    void helpTextsFormatWithoutWarnings() {
        // a bare '%' in a description made picocli print "[picocli WARN] Could not format ..." lines to stderr
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        System.setErr(new java.io.PrintStream(captured, true));
        try {
            for (String command : new String[] {"run", "perplexity", "compress", "inspect", "convert", "decompress"}) {
                CliRun r = CliRun.of(command, "--help");
                assertEquals(0, r.exitCode(), command);
                assertThat(r.out() + r.err()).as(command + " --help").doesNotContain("picocli WARN").doesNotContain("Could not format");
            }
        } finally {
            System.setErr(original);
        }
        assertThat(captured.toString()).doesNotContain("picocli WARN");
    }

    @Test
    void aMistypedOptionIsNamedWithItsLikelyMeaning() {
        CliRun r = CliRun.of("run", TestModels.sotuTiny().toString(), "--promt", "Hello");
        assertEquals(2, r.exitCode(), r.err());
        assertThat(r.errLines()[0]).startsWith("Unknown option").contains("'--promt'");
        assertThat(r.err()).contains("--prompt");
    }

    @Test
    void errorsNameTheWholeCommandAndTheVersionIsTheProjects() {
        CliRun r = CliRun.of("bench", "infer", tmp.resolve("missing").toString());
        assertEquals(1, r.exitCode());
        assertThat(r.errLines()[0]).startsWith("entrollm bench infer: error: ");
        CliRun v = CliRun.of("--version");
        assertThat(v.out()).matches("entrollm \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?, Java .*\\s*");
    }

    @Test
    void theCommandListHasWholeSentences() {
        CliRun r = CliRun.of();
        for (String line : r.out().lines().filter(l -> l.matches("  [a-z]+ {2,}.*")).toList()) {
            assertThat(line).as("one line per command, a whole sentence").endsWith(".");
        }
    }

    @Test
    void everyOptionOfEveryCommandSaysWhatItDoes() {
        picocli.CommandLine root = new picocli.CommandLine(new Main());
        root.addSubcommand("analyze", new AnalyzeCommand());
        java.util.List<String> missing = new java.util.ArrayList<>();
        java.util.Deque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(root));
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            todo.addAll(c.getSubcommands().values());
            for (var o : c.getCommandSpec().options()) {
                String d = String.join(" ", o.description()).strip();
                if (d.isEmpty()) missing.add(c.getCommandSpec().qualifiedName() + " " + o.longestName());
            }
        }
        assertThat(missing).as("options without a description").isEmpty();
    }

    @Test
    void synthFindsItsDonorFromAnyDirectoryAndItsModelRuns() {
        // tests run in java/cli, where test-models/ is not: the default --like is found through entrollm.home
        String before = System.getProperty("entrollm.home");
        System.setProperty("entrollm.home", TestModels.repoRoot().toString());
        try {
            Path out = tmp.resolve("synthetic");
            CliRun synth = CliRun.of("synth", "tiny", out.toString());
            assertEquals(0, synth.exitCode(), synth.err());
            CliRun run = CliRun.of("run", out.toString(), "--prompt", "Hello", "--max-tokens", "12", "--temperature", "1", "--seed", "3");
            assertEquals(0, run.exitCode(), "every id the model generates decodes: " + run.err());
            assertThat(run.out()).startsWith("Hello");
        } finally {
            if (before == null) System.clearProperty("entrollm.home"); else System.setProperty("entrollm.home", before);
        }
    }

    @Test
    void withoutATerminalProgressIsALineInTheCommandsOwnUnitWithTheRunningPerplexity() throws IOException {
        Path text = tmp.resolve("doc.txt");
        Files.writeString(text, Files.readString(TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt")).substring(0, 3000));
        System.setProperty("entrollm.progress.seconds", "0");
        try {
            CliRun p = CliRun.of("perplexity", TestModels.sotuTiny().toString(), "--text", text.toString(), "--ctx", "128");
            assertEquals(0, p.exitCode(), p.err());
            assertThat(p.err()).containsPattern("perplexity: 1/\\d+ windows \\(\\d+%\\), ppl [0-9.]+\\n");
            String last = p.err().lines().filter(l -> l.startsWith("perplexity: ")).reduce((a, b) -> b).orElseThrow();
            String ppl = p.out().replaceAll("(?s).*perplexity: ([0-9.]+) .*", "$1");
            assertThat(last).as("the running value ends at the result").endsWith("ppl " + ppl);
            CliRun c = CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", tmp.resolve("m.entro").toString(), "--bits", "8");
            assertEquals(0, c.exitCode(), c.err());
            assertThat(c.err()).contains("compress: 74/74 tensors (100%)");
        } finally {
            System.clearProperty("entrollm.progress.seconds");
        }
    }
}
