package io.entrollm.cli;

import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Real models' chat templates (their tokenizer_config.json fields, in src/test/resources/chat-templates)
 * rendered for one conversation, against the prompt each model was trained on, written out by hand.
 */
class ChatTemplateTest {
    @TempDir Path tmp;

    private static final List<ChatTemplate.Message> WITH_SYSTEM = List.of(
            new ChatTemplate.Message("system", "You are a helpful assistant"), new ChatTemplate.Message("user", "Hello"),
            new ChatTemplate.Message("assistant", "Hi there"), new ChatTemplate.Message("user", "Who are you"));
    private static final List<ChatTemplate.Message> WITHOUT_SYSTEM = WITH_SYSTEM.subList(1, 4);

    private static ChatTemplate template(String name) throws IOException {
        Path p = TestModels.repoRoot().resolve("java/cli/src/test/resources/chat-templates/" + name + ".tokenizer_config.json");
        return ChatTemplate.fromTokenizerConfig(p).orElseThrow();
    }

    @Test
    void aCompressedModelKeepsItsChatTemplate() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) Files.copy(TestModels.sotuTiny().resolve(f), dir.resolve(f));
        Files.copy(TestModels.repoRoot().resolve("java/cli/src/test/resources/chat-templates/llama3.tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        Path entro = tmp.resolve("m.entro");
        assertEquals(0, CliRun.of("compress", dir.toString(), "--bits", "8", "-o", entro.toString()).exitCode());
        try (var source = io.entrollm.model.ModelSources.openHuggingFace(entro)) {
            ChatTemplate t = ChatTemplate.of(source).orElseThrow();
            assertEquals(template("llama3").render(WITH_SYSTEM, true), t.render(WITH_SYSTEM, true));
            assertEquals(entro, t.origin());
        }
    }

    @Test
    void llama3() throws IOException {
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                template("llama3").render(WITH_SYSTEM, true));
        assertThat(template("llama3").render(WITH_SYSTEM, false)).endsWith("Who are you<|eot_id|>");
    }

    @Test
    void chatMlOfQwen2AddsItsDefaultSystemPrompt() throws IOException {
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n",
                template("qwen2").render(WITH_SYSTEM, true));
        assertThat(template("qwen2").render(WITHOUT_SYSTEM, true)).startsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello");
    }

    @Test
    void phi3MiniLeavesTheSystemPromptOut() throws IOException {
        assertEquals("<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n",
                template("phi3").render(WITH_SYSTEM, true));
    }

    @Test
    void mistralRefusesASystemPromptThroughRaiseException() throws IOException {
        assertEquals("<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]", template("mistral").render(WITHOUT_SYSTEM, true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> template("mistral").render(WITH_SYSTEM, true));
        assertThat(e.getMessage()).contains("Conversation roles must alternate");
    }

    @Test
    void chatRendersTheTemplateBesideTheWeightsAndStreamsTheReply() throws IOException {
        Path model = Files.createDirectory(tmp.resolve("model"));
        try (Stream<Path> s = Files.list(TestModels.sotuTiny())) {
            for (Path f : s.toList()) Files.copy(f, model.resolve(f.getFileName()));
        }
        Files.copy(TestModels.repoRoot().resolve("java/cli/src/test/resources/chat-templates/qwen2.tokenizer_config.json"),
                model.resolve("tokenizer_config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CliRun r = withStdin("Hello there\nAnd then?\n", () -> CliRun.of("chat", model.toString(), "--system", "Be brief.", "--max-tokens", "8",
                "--seed", "5", "--show-prompt"));
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.err()).contains("[prompt]\n<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n\n[/prompt]")
                .contains("<|im_start|>user\nAnd then?<|im_end|>\n<|im_start|>assistant\n").contains("seed: 5");
        assertThat(r.out().lines().count()).as("one reply a turn").isEqualTo(2);
    }

    @Test
    void aModelWithoutATemplateIsToldSoAndContinuesAsPlainText() {
        CliRun r = withStdin("Fellow-Citizens of the Senate\n", () -> CliRun.of("chat", TestModels.sotuTiny().toString(), "--max-tokens", "6",
                "--temperature", "0"));
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.errLines()[0]).startsWith("note: ").contains("has no chat template");
        assertThat(r.out()).isNotBlank();
    }

    private static CliRun withStdin(String input, java.util.function.Supplier<CliRun> run) {
        InputStream before = System.in;
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        try {
            return run.get();
        } finally {
            System.setIn(before);
        }
    }
}
