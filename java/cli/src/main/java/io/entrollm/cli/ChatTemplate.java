package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.entrollm.format.FormatException;
import io.entrollm.format.StrictJson;
import io.entrollm.model.ModelSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template (Jinja, as transformers' {@code apply_chat_template} renders it: trim_blocks,
 * lstrip_blocks, {@code raise_exception}), rendered with jinjava. Found in tokenizer_config.json beside
 * Hugging Face weights ({@code chat_template}: a string, or named templates of which "default" is used)
 * or in GGUF metadata ({@code tokenizer.chat_template}).
 */
final class ChatTemplate {
    /** One turn of a conversation; roles are "system", "user", "assistant". */
    record Message(String role, String content) {}

    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    private final String template;
    private final String bosToken, eosToken;
    private final Path origin;

    private final Jinjava jinja = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());

    ChatTemplate(String template, String bosToken, String eosToken, Path origin) {
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.origin = origin;
    }

    /** The template {@code source} carries, if any. */
    static Optional<ChatTemplate> of(ModelSource source) throws IOException {
        Optional<io.entrollm.format.gguf.GgufFile> gguf = source.gguf();
        if (gguf.isPresent()) {
            var g = gguf.get();
            Optional<String> t = g.string("tokenizer.chat_template");
            if (t.isEmpty()) return Optional.empty();
            List<String> tokens = g.strings("tokenizer.ggml.tokens").orElse(List.of());
            return Optional.of(new ChatTemplate(t.get(), token(tokens, g.integer("tokenizer.ggml.bos_token_id")),
                    token(tokens, g.integer("tokenizer.ggml.eos_token_id")), g.path()));
        }
        // tokenizer_config.json: beside Hugging Face weights, inside a .entro file
        Optional<String> config = source.companionJson("tokenizer_config.json");
        return config.isPresent() ? fromTokenizerConfig(source.companionOrigin("tokenizer_config.json"), config.get()) : Optional.empty();
    }

    /** The template of a Hugging Face tokenizer_config.json file, if it has one. */
    static Optional<ChatTemplate> fromTokenizerConfig(Path config) throws IOException {
        return fromTokenizerConfig(config, Files.readString(config));
    }

    /** The template of tokenizer_config.json text ({@code config} names it in messages), if it has one. */
    static Optional<ChatTemplate> fromTokenizerConfig(Path config, String json) {
        JsonNode root = StrictJson.parse(config, json, "tokenizer_config.json");
        Optional<String> text = io.entrollm.model.ChatTemplates.of(root);
        if (text.isEmpty()) return Optional.empty();
        return Optional.of(new ChatTemplate(text.get(), specialToken(root.path("bos_token")), specialToken(root.path("eos_token")), config));
    }

    private static String token(List<String> tokens, Optional<Long> id) {
        return id.filter(i -> i >= 0 && i < tokens.size()).map(i -> tokens.get(Math.toIntExact(i))).orElse("");
    }

    /** tokenizer_config.json writes special tokens as a string or as {"content": ...}. */
    private static String specialToken(JsonNode n) {
        if (n.isTextual()) return n.asText();
        return n.path("content").asText("");
    }

    /** Where the template came from, for messages. */
    Path origin() { return origin; }

    /**
     * What ends a reply: the model's end-of-sequence ids and the template's own end token (Llama 3's
     * {@code <|eot_id|>}, ChatML's {@code <|im_end|>}) when it is one token.
     */
    static java.util.Set<Integer> stopTokens(io.entrollm.infer.LanguageModel lm, Optional<ChatTemplate> template) {
        java.util.Set<Integer> stop = new java.util.HashSet<>(lm.eosTokens());
        template.map(t -> t.eosToken).filter(t -> !t.isEmpty()).ifPresent(t -> {
            int[] ids = lm.tokenizer().encodeRaw(t);
            if (ids.length == 1) stop.add(ids[0]);
        });
        return stop;
    }

    /** The conversation as the model was trained to see it; with {@code addGenerationPrompt}, ready for the assistant's turn. */
    String render(List<Message> messages, boolean addGenerationPrompt) {
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages.stream().map(m -> Map.of("role", m.role(), "content", m.content())).toList());
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RAISED.remove();
        RenderResult r = jinja.renderForResult(template, context);
        String raised = RAISED.get();
        RAISED.remove();
        if (raised != null) throw new IllegalArgumentException(origin + ": the chat template refuses this conversation: " + raised);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new FormatException(origin, "the chat template cannot be rendered: " + e.getMessage()
                        + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""));
            }
        }
        return r.getOutput();
    }

    /** Templates call {@code raise_exception(message)} to refuse a conversation (roles out of order, a system prompt). */
    public static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalArgumentException(message);
    }
}
