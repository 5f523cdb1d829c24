package io.entrollm.tokenizer;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The SentencePiece merge rule on a hand-made vocabulary (ids and scores chosen so the expected merges are known). */
class SentencePieceTokenizerTest {
    static final String S = SentencePieceTokenizer.SPACE;

    static SentencePieceTokenizer vocab() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        for (int b = 0; b < 256; b++) { tokens.add(String.format("<0x%02X>", b)); scores.add(0f); types.add(6); }
        String[][] pieces = { // piece, score: higher merges first
                {S, "-1"}, {"h", "-2"}, {"e", "-2"}, {"l", "-2"}, {"o", "-2"}, {"w", "-2"}, {"r", "-2"}, {"d", "-2"},
                {"ll", "-3"}, {S + "h", "-4"}, {"he", "-5"}, {S + "he", "-6"}, {S + "hell", "-7"}, {S + "hello", "-8"},
                {"or", "-9"}, {S + "w", "-10"}, {S + "wor", "-11"}};
        for (String[] p : pieces) { tokens.add(p[0]); scores.add(Float.parseFloat(p[1])); types.add(1); }
        float[] sc = new float[scores.size()];
        int[] ty = new int[types.size()];
        for (int i = 0; i < sc.length; i++) { sc[i] = scores.get(i); ty[i] = types.get(i); }
        return new SentencePieceTokenizer(tokens, sc, ty, 1, true, true);
    }

    /** The id of a piece (not of a byte token that decodes to the same text). */
    static int id(SentencePieceTokenizer t, String piece) {
        for (int i = 3 + 256; i < t.vocabSize(); i++) if (new String(t.tokenBytes(i)).equals(piece.replace(S, " "))) return i;
        throw new AssertionError(piece);
    }

    @Test
    void mergesByScoreAndFallsBackToBytes() {
        SentencePieceTokenizer t = vocab();
        // "▁hello▁world": ll first (-3), then ▁h (-4), ▁he? no: "▁h"+"e" -> "▁he" (-6) vs "he" gone; then ▁hell, ▁hello;
        // "▁world": "or" (-9), "▁w" (-10), "▁wor" (-11), then "l" and "d" stay single.
        int[] ids = t.encode("hello world");
        assertArrayEquals(new int[] {1, id(t, S + "hello"), id(t, S + "wor"), id(t, "l"), id(t, "d")}, ids);
        // "é" is not a piece: two byte tokens (UTF-8 0xC3 0xA9) after "▁"
        assertArrayEquals(new int[] {id(t, S), 3 + 0xC3, 3 + 0xA9}, t.encodeRaw("é"));
        assertEquals("hello world", t.decode(ids, true));
    }

    /**
     * Any text round-trips, except that a literal U+2581 comes back as a space: SentencePiece writes
     * spaces as that character, so it cannot tell them apart (Llama 2's tokenizer decodes "a\u2581b"
     * as "a b" too).
     */
    @org.junit.jupiter.api.Test
    void literalWhitespaceMarkerDecodesAsASpace() {
        SentencePieceTokenizer t = vocab();
        assertEquals(" ", t.decode(t.encodeRaw("\u2581"), true));
        assertEquals("hello world", t.decode(t.encodeRaw("hello\u2581world"), true));
    }

    @Property(tries = 200)
    void roundTripsAnyText(@ForAll String text) {
        SentencePieceTokenizer t = vocab();
        String valid = new String(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(valid.replace(SentencePieceTokenizer.SPACE, " "), t.decode(t.encodeRaw(valid), true));
    }
}
