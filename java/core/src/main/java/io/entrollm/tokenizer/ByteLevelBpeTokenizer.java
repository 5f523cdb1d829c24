package io.entrollm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE as in GPT-2, Llama 3, SmolLM and Qwen2, built from a Hugging Face tokenizer.json:
 * special (added) tokens are split off first, the rest is cut by the pre-tokenizer regex, each
 * piece's UTF-8 bytes are mapped to printable characters (GPT-2's bytes_to_unicode), merged by
 * merge rank, and looked up in the vocabulary. The post-processor's template adds BOS.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {
    /** GPT-2's pre-tokenizer, used by ByteLevel with use_regex = true. */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private final Map<String, Integer> vocab;
    /** By id; a map, not an array, because ids may be sparse (trimmed vocabularies keep Llama 3's specials at 128000+). */
    private final Map<Integer, String> idToToken;
    private final int vocabSize;
    private final Map<String, Integer> mergeRanks;
    private final Pattern preTokenizer;
    private final Map<String, Integer> specialTokens;
    private final Pattern specialSplitter;
    private final List<Integer> prefixIds;
    private final char[] byteToChar = new char[256];
    private final Map<Character, Integer> charToByte = new HashMap<>();
    private final Map<String, int[]> cache = new java.util.concurrent.ConcurrentHashMap<>();

    private ByteLevelBpeTokenizer(JsonNode root) {
        JsonNode model = root.path("model");
        if (!model.path("type").asText().equals("BPE")) {
            throw new IllegalArgumentException("tokenizer model type " + model.path("type").asText() + " is not supported (BPE is)");
        }
        if (!root.path("pre_tokenizer").toString().contains("ByteLevel")) {
            throw new IllegalArgumentException("only byte-level BPE tokenizers are supported (no ByteLevel pre-tokenizer found)");
        }
        vocab = new HashMap<>();
        int max = -1;
        if (!model.path("vocab").isObject()) throw new IllegalArgumentException("tokenizer model has no \"vocab\" object");
        for (var it = model.path("vocab").fields(); it.hasNext(); ) {
            var e = it.next();
            int id = tokenId(e.getValue(), "vocab entry '" + e.getKey() + "'");
            vocab.put(e.getKey(), id);
            max = Math.max(max, id);
        }
        specialTokens = new HashMap<>();
        for (JsonNode added : root.path("added_tokens")) {
            String content = added.path("content").isTextual() ? added.path("content").asText() : "";
            if (content.isEmpty()) throw new IllegalArgumentException("an added token has no content: " + added);
            int id = tokenId(added.path("id"), "added token '" + content + "'");
            specialTokens.put(content, id);
            max = Math.max(max, id);
        }
        if (max == Integer.MAX_VALUE) throw new IllegalArgumentException("token id " + max + " leaves no room for a vocabulary size");
        vocabSize = max + 1;
        idToToken = new HashMap<>();
        vocab.forEach((tok, id) -> idToToken.put(id, tok));
        specialTokens.forEach((tok, id) -> idToToken.put(id, tok));
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteToChar[b] = (char) (printable ? b : 256 + n++);
            charToByte.put(byteToChar[b], b);
            // byte-level BPE starts every piece from single bytes: each must be a token, or encoding could fail
            if (!vocab.containsKey(String.valueOf(byteToChar[b]))) {
                throw new IllegalArgumentException("the vocabulary lacks the token for byte 0x" + Integer.toHexString(b)
                        + " ('" + byteToChar[b] + "'), which every byte-level BPE vocabulary has");
            }
        }
        mergeRanks = new HashMap<>();
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String[] pair = mergePair(m);
            if (!vocab.containsKey(pair[0] + pair[1]) || !vocab.containsKey(pair[0]) || !vocab.containsKey(pair[1])) {
                throw new IllegalArgumentException("merge #" + rank + " " + m + " joins tokens that are not in the vocabulary");
            }
            mergeRanks.putIfAbsent(pair[0] + " " + pair[1], rank++);
        }
        String regex = findSplitRegex(root.path("pre_tokenizer"));
        try {
            preTokenizer = Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("the pre-tokenizer regex is invalid: " + e.getDescription() + " near index " + e.getIndex());
        }
        specialSplitter = specialTokens.isEmpty() ? null : Pattern.compile(specialTokens.keySet().stream()
                .sorted(Comparator.comparingInt(String::length).reversed()).map(Pattern::quote)
                .reduce((a, b) -> a + "|" + b).orElseThrow());
        prefixIds = templatePrefix(root.path("post_processor"));
        for (int id : prefixIds) {
            if (!idToToken.containsKey(id)) throw new IllegalArgumentException("the post-processor adds token id " + id + ", which is not defined");
        }
    }

    private static int tokenId(JsonNode n, String what) {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) throw new IllegalArgumentException(what + " has id " + n + ", not a token id");
        return n.asInt();
    }

    /** A merge as two tokens: ["a", "b"] or the older "a b". */
    private static String[] mergePair(JsonNode m) {
        if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) return new String[] {m.get(0).asText(), m.get(1).asText()};
        if (m.isTextual()) {
            String[] p = m.asText().split(" ", -1);
            if (p.length == 2 && !p[0].isEmpty() && !p[1].isEmpty()) return p;
        }
        throw new IllegalArgumentException("merge " + m + " is not two tokens");
    }

    /** Reads a Hugging Face tokenizer.json; any problem is a one-line {@link io.entrollm.format.FormatException} naming {@code origin}. */
    public static ByteLevelBpeTokenizer fromJson(String tokenizerJson, java.nio.file.Path origin) {
        JsonNode root = io.entrollm.format.StrictJson.parse(origin, tokenizerJson, "tokenizer.json");
        try {
            return new ByteLevelBpeTokenizer(root);
        } catch (IllegalArgumentException e) {
            throw new io.entrollm.format.FormatException(origin, e.getMessage());
        }
    }

    /** As {@link #fromJson(String, java.nio.file.Path)} for JSON that comes from no file (tests, generated tokenizers). */
    public static ByteLevelBpeTokenizer fromJson(String tokenizerJson) {
        return fromJson(tokenizerJson, java.nio.file.Path.of("tokenizer.json"));
    }

    /** The regex of a Split pre-tokenizer inside a Sequence (Llama 3, Qwen2), else GPT-2's. */
    private static String findSplitRegex(JsonNode pre) {
        if (pre.path("type").asText().equals("Split") && pre.path("pattern").has("Regex")) return pre.path("pattern").path("Regex").asText();
        for (JsonNode p : pre.path("pretokenizers")) {
            String r = findSplitRegex(p);
            if (!r.equals(GPT2_PATTERN)) return r;
        }
        return GPT2_PATTERN;
    }

    /** Special tokens that the TemplateProcessing post-processor puts before the sequence. */
    private List<Integer> templatePrefix(JsonNode post) {
        List<Integer> ids = new ArrayList<>();
        if (!post.path("type").asText().equals("TemplateProcessing")) return ids;
        for (JsonNode piece : post.path("single")) {
            if (piece.has("Sequence")) break;
            String tok = piece.path("SpecialToken").path("id").asText();
            JsonNode special = post.path("special_tokens").path(tok).path("ids");
            for (JsonNode id : special) ids.add(id.asInt());
        }
        return ids;
    }

    @Override
    public int[] encode(String text) {
        int[] body = encodeRaw(text);
        int[] out = new int[prefixIds.size() + body.length];
        for (int i = 0; i < prefixIds.size(); i++) out[i] = prefixIds.get(i);
        System.arraycopy(body, 0, out, prefixIds.size(), body.length);
        return out;
    }

    @Override
    public int[] encodeRaw(String text) {
        List<Integer> out = new ArrayList<>();
        int start = 0;
        if (specialSplitter != null) {
            Matcher m = specialSplitter.matcher(text);
            while (m.find()) {
                encodeOrdinary(text.substring(start, m.start()), out);
                out.add(specialTokens.get(m.group()));
                start = m.end();
            }
        }
        encodeOrdinary(text.substring(start), out);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private void encodeOrdinary(String text, List<Integer> out) {
        // as Hugging Face's Split (behavior Isolated): matches are pieces, and so is any text between them
        Matcher m = preTokenizer.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) piece(text.substring(last, m.start()), out);
            if (m.end() > m.start()) piece(m.group(), out);
            last = m.end();
        }
        if (last < text.length()) piece(text.substring(last), out);
    }

    private void piece(String piece, List<Integer> out) {
        for (int id : cache.computeIfAbsent(piece, this::bpe)) out.add(id);
    }

    /** BPE on one pre-token: repeatedly merge the adjacent pair with the lowest rank. */
    private int[] bpe(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        List<String> parts = new ArrayList<>(bytes.length);
        for (byte b : bytes) parts.add(String.valueOf(byteToChar[b & 0xFF]));
        while (parts.size() > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = mergeRanks.get(parts.get(i) + " " + parts.get(i + 1));
                if (r != null && r < bestRank) { bestRank = r; best = i; }
            }
            if (best < 0) break;
            parts.set(best, parts.get(best) + parts.get(best + 1));
            parts.remove(best + 1);
        }
        int[] ids = new int[parts.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(parts.get(i));
            if (id == null) throw new IllegalArgumentException("token '" + parts.get(i) + "' is not in the vocabulary");
            ids[i] = id;
        }
        return ids;
    }

    @Override
    public byte[] tokenBytes(int id) {
        String tok = idToToken.get(id);
        if (tok == null) throw new IllegalArgumentException("token id " + id + " out of range");
        if (specialTokens.containsKey(tok)) return tok.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (char c : tok.toCharArray()) {
            Integer v = charToByte.get(c);
            if (v == null) return tok.getBytes(StandardCharsets.UTF_8);
            b.write(v);
        }
        return b.toByteArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : ids) {
            if (skipSpecial && specialTokens.containsValue(id)) continue;
            b.writeBytes(tokenBytes(id));
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() { return vocabSize; }

    @Override
    public List<Integer> specialIds() { return List.copyOf(specialTokens.values()); }
}
