package io.entrollm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufFile;

import java.util.List;
import java.util.Optional;

/**
 * Tokenizers from GGUF metadata ({@code tokenizer.ggml.*}) for files that carry no Hugging Face
 * tokenizer.json. The byte-level BPE flavour ({@code tokenizer.ggml.model = "gpt2"}, used by Llama 3,
 * SmolLM, Qwen2) is rebuilt as the equivalent tokenizer.json: tokens as the vocabulary, merges, control
 * tokens (type 3) as special added tokens, BOS prepended when {@code add_bos_token} says so, and the
 * pre-tokenizer regex of {@code tokenizer.ggml.pre} (GPT-2's unless it names Llama 3's). The
 * SentencePiece flavour ({@code "llama"}: Llama 2, Mistral, Phi-3) becomes a {@link SentencePieceTokenizer}.
 */
public final class GgufTokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** llama.cpp's "llama-bpe" pre-tokenizer (Llama 3): the Split regex of Llama 3's tokenizer.json. */
    public static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private GgufTokenizers() {}

    public static Tokenizer fromMetadata(GgufFile gguf) {
        String model = gguf.string("tokenizer.ggml.model").orElseThrow(() ->
                new FormatException(gguf.path(), "no tokenizer: neither tokenizer.huggingface.json nor tokenizer.ggml.model"));
        if (model.equals("llama")) return sentencePiece(gguf);
        if (!model.equals("gpt2")) {
            throw new FormatException(gguf.path(), "tokenizer.ggml.model = '" + model + "' is not supported (gpt2 and llama are)");
        }
        List<String> tokens = gguf.strings("tokenizer.ggml.tokens").orElseThrow(() ->
                new FormatException(gguf.path(), "tokenizer.ggml.tokens is missing"));
        List<Long> types = gguf.integers("tokenizer.ggml.token_type").orElse(List.of());
        List<String> merges = gguf.strings("tokenizer.ggml.merges").orElseThrow(() ->
                new FormatException(gguf.path(), "tokenizer.ggml.merges is missing"));
        ObjectNode root = JSON.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode m = root.putObject("model");
        m.put("type", "BPE");
        ObjectNode vocab = m.putObject("vocab");
        for (int id = 0; id < tokens.size(); id++) {
            String tok = tokens.get(id);
            long type = id < types.size() ? types.get(id) : 1;
            if (type == 3 || type == 4) added.addObject().put("id", id).put("content", tok).put("special", type == 3);
            else vocab.put(tok, id);
        }
        ArrayNode mergeArray = m.putArray("merges");
        for (String merge : merges) mergeArray.add(merge);
        String pre = gguf.string("tokenizer.ggml.pre").orElse("gpt2");
        ObjectNode preTok = root.putObject("pre_tokenizer");
        if (pre.equals("llama-bpe") || pre.equals("llama3")) {
            preTok.put("type", "Sequence");
            ArrayNode seq = preTok.putArray("pretokenizers");
            seq.addObject().put("type", "Split").putObject("pattern").put("Regex", LLAMA3_PATTERN);
            seq.addObject().put("type", "ByteLevel").put("use_regex", false);
        } else {
            preTok.put("type", "ByteLevel").put("use_regex", true);
        }
        boolean addBos = gguf.bool("tokenizer.ggml.add_bos_token").orElse(false);
        Optional<Long> bos = gguf.integer("tokenizer.ggml.bos_token_id");
        if (addBos && bos.isPresent()) {
            if (bos.get() < 0 || bos.get() >= tokens.size()) {
                throw new FormatException(gguf.path(), "tokenizer.ggml.bos_token_id = " + bos.get() + " is not one of the " + tokens.size() + " tokens");
            }
            String bosToken = tokens.get(Math.toIntExact(bos.get()));
            ObjectNode post = root.putObject("post_processor");
            post.put("type", "TemplateProcessing");
            post.putArray("single").addObject().putObject("SpecialToken").put("id", bosToken);
            post.withArray("single").addObject().putObject("Sequence").put("id", "A");
            post.putObject("special_tokens").putObject(bosToken).putArray("ids").add(bos.get());
        }
        return ByteLevelBpeTokenizer.fromJson(root.toString(), gguf.path());
    }

    /** The SentencePiece flavour: tokens with scores and types, byte fallback, a space prefix. */
    private static Tokenizer sentencePiece(GgufFile gguf) {
        List<String> tokens = gguf.strings("tokenizer.ggml.tokens").orElseThrow(() ->
                new FormatException(gguf.path(), "tokenizer.ggml.tokens is missing"));
        List<Double> scoreList = gguf.floats("tokenizer.ggml.scores").orElseThrow(() ->
                new FormatException(gguf.path(), "tokenizer.ggml.scores is missing (needed by the SentencePiece tokenizer)"));
        List<Long> typeList = gguf.integers("tokenizer.ggml.token_type").orElse(List.of());
        if (tokens.isEmpty()) throw new FormatException(gguf.path(), "tokenizer.ggml.tokens is empty");
        float[] scores = new float[tokens.size()];
        int[] types = new int[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            scores[i] = i < scoreList.size() ? scoreList.get(i).floatValue() : 0f;
            types[i] = i < typeList.size() ? (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, typeList.get(i))) : 1;
        }
        long bos = gguf.integer("tokenizer.ggml.bos_token_id").orElse(1L);
        if (bos < 0 || bos >= tokens.size()) {
            throw new FormatException(gguf.path(), "tokenizer.ggml.bos_token_id = " + bos + " is not one of the " + tokens.size() + " tokens");
        }
        boolean addBos = gguf.bool("tokenizer.ggml.add_bos_token").orElse(true);
        boolean spacePrefix = gguf.bool("tokenizer.ggml.add_space_prefix").orElse(true);
        try {
            return new SentencePieceTokenizer(tokens, scores, types, (int) bos, addBos, spacePrefix);
        } catch (IllegalArgumentException e) {
            throw new FormatException(gguf.path(), e.getMessage());
        }
    }
}
