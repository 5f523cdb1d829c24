package io.entrollm.tokenizer;

import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Streaming detokenization: text split mid-character across tokens comes out whole, never as U+FFFD. */
class TextStreamTest {
    @Test
    void multiByteCharactersSplitAcrossTokensStreamWhole() throws IOException {
        Tokenizer tok = ByteLevelBpeTokenizer.fromJson(Files.readString(TestModels.sotuTiny().resolve("tokenizer.json")));
        String text = "café — “quoted” 日本語 🎉 end";
        int[] ids = tok.encodeRaw(text);
        // the premise: decoding token by token garbles this text
        StringBuilder naive = new StringBuilder();
        for (int id : ids) naive.append(tok.decode(new int[] {id}, true));
        assertThat(naive.toString()).contains("\uFFFD");

        TextStream stream = new TextStream(tok, true);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) pieces.add(stream.push(id));
        pieces.add(stream.finish());
        assertThat(String.join("", pieces)).isEqualTo(text);
        assertThat(pieces).noneMatch(p -> p.contains("\uFFFD"));
        assertThat(stream.text()).isEqualTo(text);
    }

    @Test
    void anUnfinishedCharacterAtTheEndBecomesOneReplacementCharacter() throws IOException {
        Tokenizer tok = ByteLevelBpeTokenizer.fromJson(Files.readString(TestModels.sotuTiny().resolve("tokenizer.json")));
        TextStream stream = new TextStream(tok, true);
        int[] ids = tok.encodeRaw("ab");
        for (int id : ids) stream.push(id);
        // the first byte of "é" (0xC3) alone, a token of every byte-level vocabulary: held back, then flushed as U+FFFD
        int c3 = java.util.stream.IntStream.range(0, tok.vocabSize())
                .filter(id -> { try { return java.util.Arrays.equals(tok.tokenBytes(id), new byte[] {(byte) 0xC3}); } catch (IllegalArgumentException gap) { return false; } })
                .findFirst().orElseThrow();
        assertThat(stream.push(c3)).isEmpty();
        assertThat(stream.text()).isEqualTo("ab");
        assertThat(stream.finish()).isEqualTo("\uFFFD");
    }
}
