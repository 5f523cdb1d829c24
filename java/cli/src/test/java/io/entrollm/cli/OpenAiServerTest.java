package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The OpenAI-compatible server on the bundled model, driven by curl (a client no one here wrote). */
class OpenAiServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static LanguageModel lm;
    static LanguageModel.Session session;
    static OpenAiServer server;

    @BeforeAll
    static void start() throws IOException {
        lm = LanguageModel.load(TestModels.sotuTiny());
        session = lm.openCpuSession();
        server = new OpenAiServer(lm, session, Optional.empty(), "sotu-tiny", 512, 16, "127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        server.close();
        session.close();
        lm.close();
    }

    /** curl's output and the HTTP status (the last line, from --write-out). */
    private record Reply(int status, String body) {
        JsonNode json() throws IOException { return JSON.readTree(body); }
    }

    private static Reply curl(String method, String path, String body) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-N", "-X", method, "-w", "\n%{http_code}",
                "http://127.0.0.1:" + server.port() + path));
        if (body != null) cmd.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", body));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "curl: " + out);
        int cut = out.lastIndexOf('\n');
        return new Reply(Integer.parseInt(out.substring(cut + 1).strip()), out.substring(0, cut));
    }

    @Test
    void healthAndModels() throws Exception {
        Reply h = curl("GET", "/health", null);
        assertEquals(200, h.status());
        assertEquals("ok", h.json().path("status").asText());
        Reply m = curl("GET", "/v1/models", null);
        assertEquals(200, m.status());
        assertEquals("sotu-tiny", m.json().path("data").path(0).path("id").asText());
    }

    @Test
    void aGreedyCompletionIsTheModelsOwnContinuation() throws Exception {
        Reply r = curl("POST", "/v1/completions", "{\"model\":\"sotu-tiny\",\"prompt\":\"Fellow-Citizens of the Senate\",\"max_tokens\":12,\"temperature\":0}");
        assertEquals(200, r.status(), r.body());
        JsonNode j = r.json();
        String expected = session.generateText("Fellow-Citizens of the Senate", 12, Sampler.greedy(), t -> {}).text();
        assertEquals(expected, j.path("choices").path(0).path("text").asText());
        assertEquals("text_completion", j.path("object").asText());
        assertEquals(12, j.path("usage").path("completion_tokens").asInt());
        assertEquals("length", j.path("choices").path(0).path("finish_reason").asText());
    }

    @Test
    void aStreamedChatCompletionArrivesAsServerSentEventsThatAddUpToTheWholeReply() throws Exception {
        String req = "{\"messages\":[{\"role\":\"user\",\"content\":\"The state of the Union\"}],\"max_tokens\":10,\"temperature\":0";
        Reply whole = curl("POST", "/v1/chat/completions", req + "}");
        assertEquals(200, whole.status(), whole.body());
        String content = whole.json().path("choices").path(0).path("message").path("content").asText();
        assertThat(content).isNotEmpty();

        Reply streamed = curl("POST", "/v1/chat/completions", req + ",\"stream\":true}");
        assertEquals(200, streamed.status());
        List<String> data = streamed.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(data.getLast()).isEqualTo("[DONE]");
        StringBuilder joined = new StringBuilder();
        String finish = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode chunk = JSON.readTree(d);
            assertEquals("chat.completion.chunk", chunk.path("object").asText());
            joined.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
            if (!chunk.path("choices").path(0).path("finish_reason").isNull()) finish = chunk.path("choices").path(0).path("finish_reason").asText();
        }
        assertEquals(content, joined.toString());
        assertEquals("length", finish);
    }

    @Test
    void badRequestsGetAJsonErrorAndTheServerKeepsServing() throws Exception {
        String[][] cases = {
                {"POST", "/v1/chat/completions", "{not json", "400", "not valid JSON"},
                {"POST", "/v1/chat/completions", "{\"messages\":[]}", "400", "non-empty array"},
                {"POST", "/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "400", "role"},
                {"POST", "/v1/completions", "{\"prompt\":\"x\",\"temperature\":5}", "400", "temperature"},
                {"POST", "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":-1}", "400", "max_tokens"},
                {"POST", "/v1/completions", "[1,2]", "400", "JSON object"},
                {"GET", "/v1/completions", null, "405", "not allowed"},
                {"GET", "/v2/everything", null, "404", "no endpoint"}};
        for (String[] c : cases) {
            Reply r = curl(c[0], c[1], c[2]);
            assertEquals(Integer.parseInt(c[3]), r.status(), String.join(" ", c) + " -> " + r.body());
            assertThat(r.json().path("error").path("message").asText()).as(String.join(" ", c)).contains(c[4]);
            assertEquals("invalid_request_error", r.json().path("error").path("type").asText());
        }
        assertEquals(200, curl("GET", "/health", null).status());
    }
}
