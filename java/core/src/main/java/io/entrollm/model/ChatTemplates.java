package io.entrollm.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/** Where a Hugging Face model keeps its chat template (the CLI renders it; the GGUF converter copies it). */
public final class ChatTemplates {
    private ChatTemplates() {}

    /** tokenizer_config.json's {@code chat_template}: a string, or a list of named templates of which "default" is used. */
    public static Optional<String> of(JsonNode tokenizerConfig) {
        JsonNode t = tokenizerConfig.path("chat_template");
        if (t.isTextual()) return Optional.of(t.asText());
        for (JsonNode named : t) {
            if (named.path("name").asText().equals("default") && named.path("template").isTextual()) return Optional.of(named.path("template").asText());
        }
        return Optional.empty();
    }
}
