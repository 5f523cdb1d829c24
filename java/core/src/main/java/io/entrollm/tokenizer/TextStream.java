package io.entrollm.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Generated token ids to text as they come. A token is bytes, not characters: "é" or "“" can be split
 * across two tokens, so decoding each token alone prints replacement characters ("café" streams as
 * {@code c|a|f|\uFFFD|\uFFFD}). This holds back the bytes of an unfinished character until the token
 * that completes it; {@link #finish()} flushes what is left (as U+FFFD if it never completed).
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final Set<Integer> skipped;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(64);
    private final StringBuilder text = new StringBuilder();

    /** @param skipSpecial leave special tokens (BOS, EOS, chat markers) out of the text */
    public TextStream(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipped = skipSpecial ? new HashSet<>(tokenizer.specialIds()) : Set.of();
    }

    /** Adds a token; returns the text it completes (often one token's text, sometimes "" or more). */
    public String push(int token) {
        if (skipped.contains(token)) return "";
        byte[] b = tokenizer.tokenBytes(token);
        if (pending.remaining() < b.length) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.position() + b.length));
            pending.flip();
            bigger.put(pending);
            pending = bigger;
        }
        pending.put(b);
        return drain(false);
    }

    /** Ends the stream: the held-back bytes of an unfinished character, as U+FFFD. */
    public String finish() { return drain(true); }

    /** All text so far. */
    public String text() { return text.toString(); }

    private String drain(boolean end) {
        pending.flip();
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 2);
        utf8.decode(pending, out, end);
        if (end) {
            utf8.flush(out);
            utf8.reset();
        }
        pending.compact(); // an unfinished character's bytes stay for the next token
        out.flip();
        String s = out.toString();
        text.append(s);
        return s;
    }
}
