package io.entrollm.tokenizer;

import java.util.List;

/** Text to token ids and back. */
public interface Tokenizer {
    /** Encodes text as the model expects it, including the post-processor's BOS when it adds one. */
    int[] encode(String text);

    /** Encodes without special tokens from the post-processor. */
    int[] encodeRaw(String text);

    /** Decodes ids to text; special tokens are skipped when {@code skipSpecial}. */
    String decode(int[] ids, boolean skipSpecial);

    /** Decodes a single token's bytes (for streaming; may be part of a UTF-8 sequence). */
    byte[] tokenBytes(int id);

    int vocabSize();

    List<Integer> specialIds();
}
