package io.entrollm.tokenizer;

import io.entrollm.testing.TestModels;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteLevelBpeTokenizerTest {
    static Tokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        tok = ByteLevelBpeTokenizer.fromJson(Files.readString(TestModels.sotuTiny().resolve("tokenizer.json")));
    }

    @Test
    void roundTripsTheEvalCorpora() throws IOException {
        try (Stream<Path> files = Files.list(TestModels.repoRoot().resolve("test-models/eval/sotu-test"))) {
            for (Path f : files.toList()) {
                String text = Files.readString(f);
                assertEquals(text, tok.decode(tok.encodeRaw(text), false), f.toString());
            }
        }
        String moby = Files.readString(TestModels.repoRoot().resolve("test-models/eval/moby-dick.txt")).substring(0, 50_000);
        assertEquals(moby, tok.decode(tok.encodeRaw(moby), false));
    }

    @Property(tries = 200)
    void roundTripsArbitraryUnicode(@ForAll String text) {
        if (text.contains("<|")) return; // special-token text is covered below
        // lone surrogates are not valid UTF-8; they round-trip as U+FFFD like in every UTF-8 tokenizer
        String valid = new String(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(valid, tok.decode(tok.encodeRaw(valid), false));
    }

    @Test
    void specialTokensAndBos() {
        int[] ids = tok.encode("end<|eos|>start");
        assertEquals(0, ids[0], "BOS from the post-processor");
        assertThat(ids).contains(1);
        assertEquals("endstart", tok.decode(ids, true));
        assertEquals("<|bos|>end<|eos|>start", tok.decode(ids, false));
        assertArrayEquals(new int[] {0}, tok.encode(""));
        assertThrows(IllegalArgumentException.class, () -> tok.tokenBytes(99_999));
    }
}
