package io.entrollm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The SentencePiece tokenizer against the real Llama 2 vocabulary: the token ids the Llama 2
 * tokenizer gives for the test texts of llama-tokenizer-js (spaces, runs of spaces, tabs and line
 * breaks as byte tokens, equal-priority merges, CJK, emoji byte fallback, a 423-token paragraph).
 * The fixture keeps the vocabulary entries those texts can reach, at their real ids, with scores from
 * the merge order (src/test/node/make-llama2-spm-fixture.mjs says how it was made and why that is
 * exact); the other ids are filled with unreachable placeholders.
 */
class SentencePieceLlama2Test {
    @Test
    void encodesAsTheLlama2Tokenizer() throws IOException {
        JsonNode fixture;
        try (InputStream in = getClass().getResourceAsStream("/tokenizer/llama2-spm-cases.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        int size = fixture.get("vocab_size").asInt();
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < size; i++) tokens.add("<unreachable " + i + ">");
        float[] scores = new float[size];
        int[] types = new int[size];
        Arrays.fill(scores, -1e9f);
        Arrays.fill(types, 5); // unused
        for (JsonNode t : fixture.get("tokens")) {
            int id = t.get(0).asInt();
            tokens.set(id, t.get(1).asText());
            scores[id] = (float) t.get(2).asDouble();
            types[id] = t.get(3).asInt();
        }
        SentencePieceTokenizer spm = new SentencePieceTokenizer(tokens, scores, types, fixture.get("bos").asInt(), true, true);
        assertThat(fixture.get("cases").size()).isEqualTo(12);
        for (JsonNode c : fixture.get("cases")) {
            String text = c.get("text").asText();
            int[] expected = io.entrollm.testing.Fixtures.ints(c.get("ids"));
            assertArrayEquals(expected, spm.encode(text), text);
            assertEquals(text, spm.decode(expected, true), "decode of " + text);
        }
    }
}
