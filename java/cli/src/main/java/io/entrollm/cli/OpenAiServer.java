package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import io.entrollm.tokenizer.TextStream;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The OpenAI-compatible HTTP API over one model ({@code /v1/chat/completions}, {@code /v1/completions},
 * both streaming as server-sent events when asked, {@code /v1/models}, {@code /health}), on the JDK's
 * HTTP server. Requests are served one generation at a time, in arrival order (a fair lock queues the
 * rest); a bad request gets 400 with an OpenAI-style JSON error, never a dropped connection.
 */
final class OpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LanguageModel lm;
    private final LanguageModel.Session session;
    private final Optional<ChatTemplate> template;
    private final String modelId;
    private final int context, defaultMaxTokens;
    private final Set<Integer> stop;
    private final ReentrantLock generation = new ReentrantLock(true);
    private final HttpServer http;
    private final long created = System.currentTimeMillis() / 1000;

    OpenAiServer(LanguageModel lm, LanguageModel.Session session, Optional<ChatTemplate> template, String modelId, int context,
                 int defaultMaxTokens, String host, int port) throws IOException {
        this.lm = lm;
        this.session = session;
        this.template = template;
        this.modelId = modelId;
        this.context = context;
        this.defaultMaxTokens = defaultMaxTokens;
        this.stop = ChatTemplate.stopTokens(lm, template);
        http = HttpServer.create(new InetSocketAddress(host, port), 64);
        http.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "entrollm-serve");
            t.setDaemon(true);
            return t;
        }));
        http.createContext("/", this::handle);
        http.start();
    }

    int port() { return http.getAddress().getPort(); }

    @Override
    public void close() { http.stop(0); }

    /** A request the client got wrong: 400 (or another 4xx) with its message. */
    private static final class BadRequest extends RuntimeException {
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
            try {
                switch (path) {
                    case "/health" -> { expect(method, "GET"); send(ex, 200, JSON.createObjectNode().put("status", "ok")); }
                    case "/v1/models" -> { expect(method, "GET"); send(ex, 200, models()); }
                    case "/v1/completions" -> { expect(method, "POST"); complete(ex, body(ex), false); }
                    case "/v1/chat/completions" -> { expect(method, "POST"); complete(ex, body(ex), true); }
                    default -> throw new BadRequest(404, "no endpoint " + path + " (there are /v1/chat/completions, /v1/completions, /v1/models, /health)");
                }
            } catch (BadRequest e) {
                error(ex, e.status, e.getMessage(), "invalid_request_error");
            } catch (io.entrollm.format.FormatException | IllegalArgumentException e) {
                error(ex, 400, e.getMessage(), "invalid_request_error");
            } catch (RuntimeException e) {
                error(ex, 500, String.valueOf(e.getMessage()), "server_error");
            }
        }
    }

    private static void expect(String method, String allowed) {
        if (!method.equals(allowed)) throw new BadRequest(405, method + " is not allowed here (" + allowed + " is)");
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        byte[] b = ex.getRequestBody().readNBytes(16 << 20);
        try {
            JsonNode n = JSON.readTree(b);
            if (n == null || !n.isObject()) throw new BadRequest(400, "the request body must be a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadRequest(400, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private ObjectNode models() {
        ObjectNode o = JSON.createObjectNode().put("object", "list");
        o.putArray("data").addObject().put("id", modelId).put("object", "model").put("created", created).put("owned_by", "entrollm");
        return o;
    }

    private void complete(HttpExchange ex, JsonNode req, boolean chat) throws IOException {
        int maxTokens = intField(req, "max_tokens", defaultMaxTokens, 1, Integer.MAX_VALUE);
        double temperature = number(req, "temperature", 1.0, 0, 2);
        double topP = number(req, "top_p", 1.0, Double.MIN_VALUE, 1);
        long seed = req.hasNonNull("seed") ? req.get("seed").asLong() : new java.security.SecureRandom().nextLong();
        boolean stream = req.path("stream").asBoolean(false);
        int[] prompt;
        if (chat) {
            JsonNode ms = req.path("messages");
            if (!ms.isArray() || ms.isEmpty()) throw new BadRequest(400, "\"messages\" must be a non-empty array");
            List<ChatTemplate.Message> messages = new ArrayList<>();
            for (JsonNode m : ms) {
                String role = m.path("role").asText(""), content = m.path("content").isTextual() ? m.path("content").asText() : null;
                if (!Set.of("system", "user", "assistant").contains(role) || content == null) {
                    throw new BadRequest(400, "each message needs a role (system, user or assistant) and a string content: " + m);
                }
                messages.add(new ChatTemplate.Message(role, content));
            }
            prompt = template.isPresent() ? lm.tokenizer().encodeRaw(template.get().render(messages, true))
                    : lm.tokenizer().encode(String.join("\n", messages.stream().map(ChatTemplate.Message::content).toList()) + "\n");
        } else {
            if (!req.path("prompt").isTextual()) throw new BadRequest(400, "\"prompt\" must be a string");
            prompt = lm.tokenizer().encode(req.path("prompt").asText());
        }
        if (prompt.length + 1 > context) {
            throw new BadRequest(400, "the prompt takes " + prompt.length + " tokens; this server's context is " + context);
        }
        int budget = Math.min(maxTokens, context - prompt.length);
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
        Sampler sampler = new Sampler((float) temperature, 0, (float) topP, seed);
        TextStream text = new TextStream(lm.tokenizer(), true);
        OutputStream sse = null;
        if (stream) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            sse = ex.getResponseBody();
            if (chat) event(sse, chunk(id, chat, JSON.createObjectNode().put("role", "assistant").put("content", ""), null));
        }
        Generator.Result r;
        OutputStream events = sse;
        generation.lock(); // one generation at a time; the fair lock serves waiting requests in order
        try {
            r = session.generate(prompt, budget, sampler, stop, token -> {
                String piece = text.push(token);
                if (events != null && !piece.isEmpty()) {
                    try {
                        event(events, chunk(id, chat, chat ? JSON.createObjectNode().put("content", piece) : null, piece));
                    } catch (IOException gone) {
                        return false; // the client went away: stop generating for it
                    }
                }
                return true;
            });
        } finally {
            generation.unlock();
        }
        String rest = text.finish();
        String finish = r.stoppedAtEos() ? "stop" : "length";
        if (sse != null) {
            if (!rest.isEmpty()) event(sse, chunk(id, chat, chat ? JSON.createObjectNode().put("content", rest) : null, rest));
            ObjectNode last = chunk(id, chat, chat ? JSON.createObjectNode() : null, "");
            ((ObjectNode) last.withArray("choices").get(0)).put("finish_reason", finish);
            event(sse, last);
            sse.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            sse.flush();
            return;
        }
        ObjectNode o = JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", modelId);
        ObjectNode choice = o.putArray("choices").addObject().put("index", 0);
        if (chat) choice.putObject("message").put("role", "assistant").put("content", text.text());
        else choice.put("text", text.text()).putNull("logprobs");
        choice.put("finish_reason", finish);
        o.putObject("usage").put("prompt_tokens", prompt.length).put("completion_tokens", r.tokens().length)
                .put("total_tokens", prompt.length + r.tokens().length);
        send(ex, 200, o);
    }

    private ObjectNode chunk(String id, boolean chat, ObjectNode delta, String text) {
        ObjectNode o = JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", modelId);
        ArrayNode choices = o.putArray("choices");
        ObjectNode c = choices.addObject().put("index", 0);
        if (chat) c.set("delta", delta);
        else c.put("text", text);
        c.putNull("finish_reason");
        return o;
    }

    private static void event(OutputStream out, ObjectNode data) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static int intField(JsonNode req, String key, int fallback, int min, int max) {
        JsonNode n = req.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
            throw new BadRequest(400, "\"" + key + "\" must be an integer in [" + min + ", " + max + "], is " + n);
        }
        return n.asInt();
    }

    private static double number(JsonNode req, String key, double fallback, double min, double max) {
        JsonNode n = req.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber() || n.asDouble() < min || n.asDouble() > max) {
            throw new BadRequest(400, "\"" + key + "\" must be a number in [" + (min == Double.MIN_VALUE ? "> 0" : min) + ", " + max + "], is " + n);
        }
        return n.asDouble();
    }

    private static void error(HttpExchange ex, int status, String message, String type) throws IOException {
        ObjectNode e = JSON.createObjectNode();
        e.putObject("error").put("message", message).put("type", type).putNull("param").putNull("code");
        send(ex, status, e);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] b = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }
}
