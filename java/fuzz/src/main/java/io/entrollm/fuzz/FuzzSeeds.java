package io.entrollm.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.model.GgufConverter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Map.Entry;

/**
 * Seed inputs for every fuzz target, made by the project's own writers from the tiny model (and the
 * bundled model's config and a trimmed copy of its tokenizer): real files, small enough to mutate
 * fast. {@code make fuzz} writes them to target/fuzz/seeds/TARGET/; the regression test checks that
 * every seed is accepted, so fuzzing starts from files that reach the deep checks.
 */
public final class FuzzSeeds {
    /** Fuzz target class for each seed folder name. */
    public static final Map<String, Class<?>> TARGETS = targets();

    private static Map<String, Class<?>> targets() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        m.put("safetensors", SafetensorsFuzz.class);
        m.put("gguf", GgufFuzz.class);
        m.put("entro", EntroFuzz.class);
        m.put("tokenizer", TokenizerJsonFuzz.class);
        m.put("config", ConfigJsonFuzz.class);
        return m;
    }

    private FuzzSeeds() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: FuzzSeeds OUTPUT_DIR");
            System.exit(2);
        }
        write(Path.of(args[0]));
    }

    /** Writes every target's seeds under {@code out/TARGET/}. */
    public static void write(Path out) throws IOException {
        Path tiny = TinyModel.directory();
        Path st = dir(out, "safetensors");
        Files.copy(tiny.resolve("model.safetensors"), st.resolve("tiny-bf16.safetensors"));

        Path cfg = dir(out, "config");
        Files.copy(tiny.resolve("config.json"), cfg.resolve("tiny.json"));
        Files.writeString(cfg.resolve("tiny-llama3-rope.json"), withLlama3Rope(Files.readString(tiny.resolve("config.json"))));

        Path tok = dir(out, "tokenizer");
        Files.copy(tiny.resolve("tokenizer.json"), tok.resolve("byte-level.json"));
        Files.writeString(tok.resolve("sotu-tiny-trimmed.json"), trimmedTokenizer(TinyModel.bundledModel().resolve("tokenizer.json")));

        Path gguf = dir(out, "gguf");
        try (ModelSource src = ModelSources.openHuggingFace(tiny)) {
            GgufConverter.convert(src, gguf.resolve("tiny-bf16.gguf"), GgufConverter.OutType.BF16);
            GgufConverter.convert(src, gguf.resolve("tiny-f32.gguf"), GgufConverter.OutType.F32);
            // GGML blocks where rows are whole blocks of 32 (down_proj), f16 elsewhere
            GgufConverter.convert(src, gguf.resolve("tiny-q4_0.gguf"), GgufConverter.OutType.Q4_0);
        }

        Path entro = dir(out, "entro");
        try (ModelSource src = ModelSources.openHuggingFace(tiny)) {
            CompressOptions u4 = CompressOptions.defaults(4, QuantScheme.MIXED, Granularity.TENSOR);
            EntroCompressor.compress(src, entro.resolve("u4-huffman.entro"), new CompressOptions(4, QuantScheme.MIXED,
                    Granularity.TENSOR, u4.maxCodeLength(), 32, true, CompressOptions.Encoding.HUFFMAN), null);
            EntroCompressor.compress(src, entro.resolve("u3-group8.entro"), new CompressOptions(3, QuantScheme.ASYM,
                    Granularity.group(8), u4.maxCodeLength(), 64, true, CompressOptions.Encoding.HUFFMAN), null);
            EntroCompressor.compress(src, entro.resolve("u8-packed-channel.entro"), new CompressOptions(8, QuantScheme.SYM,
                    Granularity.CHANNEL, 8, 32, false, CompressOptions.Encoding.PACKED), null);
        }
        // format version 2: a GGUF's blocks kept as they are, and the GGUF's header
        try (ModelSource src = ModelSources.openHuggingFace(gguf.resolve("tiny-q4_0.gguf"))) {
            EntroCompressor.compress(src, entro.resolve("keep-q4_0.entro"), CompressOptions.defaults(8, QuantScheme.MIXED, Granularity.TENSOR)
                    .withEncoding(CompressOptions.Encoding.KEEP_GGML), null);
        }
    }

    private static Path dir(Path out, String target) throws IOException {
        return Files.createDirectories(out.resolve(target));
    }

    /** The tiny config with Llama 3's RoPE scaling and several end-of-sequence ids (the optional fields of a real config). */
    static String withLlama3Rope(String configJson) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(configJson);
        ObjectNode rope = root.putObject("rope_scaling");
        rope.put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 32);
        root.putArray("eos_token_id").add(1).add(2);
        return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    /** The bundled tokenizer.json cut to its first tokens and merges: its full regex, specials and templates, at 1/20 of the size. */
    static String trimmedTokenizer(Path tokenizerJson) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(tokenizerJson.toFile());
        ObjectNode model = (ObjectNode) root.get("model");
        ObjectNode vocab = json.createObjectNode();
        int kept = 0;
        int ids = TinyModel.PRESET.vocab(); // the tokenizer must fit the tiny model it is fuzzed beside
        for (Iterator<Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = model.get("vocab").fields(); it.hasNext() && kept < ids; kept++) {
            Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
            if (e.getValue().asInt() < ids) vocab.set(e.getKey(), e.getValue());
        }
        model.set("vocab", vocab);
        ArrayNode added = json.createArrayNode();
        for (com.fasterxml.jackson.databind.JsonNode t : root.path("added_tokens")) if (t.path("id").asInt() < ids) added.add(t);
        root.set("added_tokens", added);
        ArrayNode merges = json.createArrayNode();
        for (com.fasterxml.jackson.databind.JsonNode m : model.get("merges")) {
            String[] pair = m.isArray() ? new String[] {m.get(0).asText(), m.get(1).asText()} : m.asText().split(" ", 2);
            if (pair.length == 2 && vocab.has(pair[0]) && vocab.has(pair[1]) && vocab.has(pair[0] + pair[1])) merges.add(m);
        }
        model.set("merges", merges);
        return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
