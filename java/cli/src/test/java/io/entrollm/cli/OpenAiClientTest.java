package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The server through the official OpenAI client (npm package openai 6.49.0, installed by {@code make openai-client}
 * into target/openai-client, run by Node): model list, chat completion, the same streamed, a text completion, and a
 * bad request turned into the client's 400 error. Where the client is missing the test fails when
 * {@code entrollm.requireOpenAiClient} is set (make test sets it) and is skipped otherwise.
 */
class OpenAiClientTest {
    @Test
    void theOfficialClientTalksToTheServer() throws Exception {
        Path dir = TestModels.repoRoot().resolve("target/openai-client");
        if (!Files.isDirectory(dir.resolve("node_modules/openai"))) {
            String why = "the openai npm client is not installed (" + dir + "): run `make openai-client`";
            if (Boolean.getBoolean("entrollm.requireOpenAiClient")) fail(why);
            assumeTrue(false, why);
        }
        // beside its node_modules, where Node resolves "openai" from
        Path script = dir.resolve("client.mjs");
        Files.copy(TestModels.repoRoot().resolve("java/cli/src/test/resources/openai-client/client.mjs"), script, StandardCopyOption.REPLACE_EXISTING);
        try (LanguageModel lm = LanguageModel.load(TestModels.sotuTiny()); LanguageModel.Session session = lm.openCpuSession();
             OpenAiServer server = new OpenAiServer(lm, session, Optional.empty(), "sotu-tiny", 512, 16, "127.0.0.1", 0)) {
            Process node = new ProcessBuilder("node", script.toString(), "http://127.0.0.1:" + server.port() + "/v1").redirectErrorStream(true).start();
            String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!node.waitFor(120, TimeUnit.SECONDS)) fail("the client did not finish");
            assertEquals(0, node.exitValue(), out);
            JsonNode r = new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElseThrow());
            assertEquals("sotu-tiny", r.get("model").asText());
            // a model without a chat template: the messages as plain text, one a line, continued greedily
            String expected = session.generateText(lm.tokenizer().encode("The state of the Union\n"), 8, Sampler.greedy(), java.util.Set.of(), t -> {}).text();
            assertEquals(expected, r.get("chat").asText());
            assertEquals("length", r.get("chatFinish").asText());
            assertEquals(8, r.get("usage").get("completion_tokens").asInt());
            assertEquals(expected, r.get("streamed").asText(), "the streamed reply is the same text");
            assertThat(r.get("chunks").asInt()).as("streamed in pieces").isGreaterThan(2);
            assertEquals("length", r.get("streamFinish").asText());
            assertEquals(session.generateText("The Congress", 5, Sampler.greedy(), t -> {}).text(), r.get("completion").asText());
            assertEquals(400, r.get("error").get("status").asInt(), out);
            assertThat(r.get("error").get("message").asText()).contains("messages");
        }
    }
}
