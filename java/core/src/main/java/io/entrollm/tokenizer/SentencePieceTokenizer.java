package io.entrollm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE as llama.cpp runs it for GGUF vocabularies with {@code tokenizer.ggml.model
 * = "llama"} (Llama 2, Mistral, Phi-3): spaces become U+2581 ("▁"), one is prepended
 * ({@code add_space_prefix}), the text is split into UTF-8 characters, and the adjacent pair whose
 * concatenation is a vocabulary token with the highest score is merged until none is left (ties go to
 * the leftmost pair). Pieces still not in the vocabulary fall back to byte tokens {@code <0xXX>}.
 * Decoding maps "▁" back to spaces and byte tokens back to bytes, and drops the prefixed space.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    static final String SPACE = "\u2581";

    private final String[] tokens;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int[] byteTokens = new int[256];
    private final int bos, unknown;
    private final boolean addBos, addSpacePrefix;

    /**
     * @param types GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
     */
    public SentencePieceTokenizer(List<String> tokens, float[] scores, int[] types, int bos, boolean addBos, boolean addSpacePrefix) {
        if (scores.length != tokens.size() || types.length != tokens.size()) {
            throw new IllegalArgumentException("tokens, scores and token types differ in length");
        }
        this.tokens = tokens.toArray(String[]::new);
        this.scores = scores.clone();
        this.types = types.clone();
        this.bos = bos;
        this.addBos = addBos;
        this.addSpacePrefix = addSpacePrefix;
        java.util.Arrays.fill(byteTokens, -1);
        int unk = -1;
        for (int i = 0; i < this.tokens.length; i++) {
            String t = this.tokens[i];
            if (types[i] == 6 && t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")
                    && Character.digit(t.charAt(3), 16) >= 0 && Character.digit(t.charAt(4), 16) >= 0) {
                byteTokens[Integer.parseInt(t.substring(3, 5), 16)] = i;
            } else {
                ids.putIfAbsent(t, i);
            }
            if (types[i] == 2 && unk < 0) unk = i;
        }
        this.unknown = unk;
        // text the pieces do not cover falls back to byte tokens, else to the unknown token: one must exist
        if (unk < 0 && java.util.Arrays.stream(byteTokens).anyMatch(t -> t < 0)) {
            throw new IllegalArgumentException("the vocabulary has neither all 256 byte tokens <0x00>..<0xFF> nor an unknown token");
        }
        if (bos < 0 || bos >= this.tokens.length) throw new IllegalArgumentException("bos token id " + bos + " is not in the vocabulary");
    }

    @Override
    public int[] encode(String text) {
        int[] body = encodeRaw(text);
        if (!addBos) return body;
        int[] out = new int[body.length + 1];
        out[0] = bos;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    private record Pair(int left, float score, String merged) {}

    @Override
    public int[] encodeRaw(String text) {
        if (text.isEmpty()) return new int[0];
        String s = (addSpacePrefix ? " " + text : text).replace(" ", SPACE);
        // symbols as a linked list over code points
        List<String> sym = new ArrayList<>();
        s.codePoints().forEach(cp -> sym.add(new String(Character.toChars(cp))));
        int n = sym.size();
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        PriorityQueue<Pair> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) offer(queue, sym, i, i + 1);
        while (!queue.isEmpty()) {
            Pair p = queue.poll();
            int l = p.left, r = next[l];
            if (r < 0 || sym.get(l) == null || sym.get(r) == null || !(sym.get(l) + sym.get(r)).equals(p.merged)) continue; // stale
            sym.set(l, p.merged);
            sym.set(r, null);
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) offer(queue, sym, prev[l], l);
            if (next[l] >= 0) offer(queue, sym, l, next[l]);
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            Integer id = ids.get(sym.get(i));
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte b : sym.get(i).getBytes(StandardCharsets.UTF_8)) {
                int bt = byteTokens[b & 0xFF];
                if (bt >= 0) out.add(bt);
                else if (unknown >= 0) out.add(unknown);
                else throw new IllegalArgumentException("no token for byte 0x" + Integer.toHexString(b & 0xFF) + " and no unknown token");
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private void offer(PriorityQueue<Pair> queue, List<String> sym, int l, int r) {
        String merged = sym.get(l) + sym.get(r);
        Integer id = ids.get(merged);
        if (id != null) queue.add(new Pair(l, scores[id], merged));
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokens.length) throw new IllegalArgumentException("token id " + id + " out of range");
        String t = tokens[id];
        if (types[id] == 6 && t.length() == 6 && t.startsWith("<0x") && Character.digit(t.charAt(3), 16) >= 0 && Character.digit(t.charAt(4), 16) >= 0) {
            return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
        }
        return tokens[id].replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : ids) {
            if (skipSpecial && (types[id] == 3 || types[id] == 2)) continue;
            b.writeBytes(tokenBytes(id));
        }
        String s = b.toString(StandardCharsets.UTF_8);
        return addSpacePrefix && s.startsWith(" ") ? s.substring(1) : s;
    }

    @Override public int vocabSize() { return tokens.length; }

    @Override
    public List<Integer> specialIds() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < types.length; i++) if (types[i] == 3) out.add(i);
        return out;
    }
}
