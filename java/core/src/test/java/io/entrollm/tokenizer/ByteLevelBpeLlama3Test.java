package io.entrollm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The byte-level BPE tokenizer against the real Llama 3 vocabulary, merge list and pre-tokenizer
 * regex: the token ids the Llama 3 tokenizer gives for the test texts of llama3-tokenizer-js (runs
 * of spaces, tabs and line breaks, CJK, emoji, a 371-token paragraph, special tokens inside text).
 * The fixture is a Hugging Face tokenizer.json holding the merges and vocabulary entries those texts
 * can reach, at their real ids and ranks (src/test/node/make-llama3-bpe-fixture.mjs says how it was
 * made and why the result is that of the full vocabulary).
 */
class ByteLevelBpeLlama3Test {
    @Test
    void encodesAsTheLlama3Tokenizer() throws IOException {
        JsonNode fixture;
        try (InputStream in = getClass().getResourceAsStream("/tokenizer/llama3-bpe-cases.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        ByteLevelBpeTokenizer bpe = ByteLevelBpeTokenizer.fromJson(fixture.get("tokenizer").toString());
        assertThat(fixture.get("cases").size()).isEqualTo(14);
        for (JsonNode c : fixture.get("cases")) {
            String text = c.get("text").asText();
            int[] expected = io.entrollm.testing.Fixtures.ints(c.get("ids"));
            assertArrayEquals(expected, bpe.encodeRaw(text), text);
            assertEquals(text, bpe.decode(expected, false), "decode of " + text);
        }
    }
}
