package io.entrollm.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.model.ModelConfig;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Granularity;
import io.entrollm.tensor.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * The DIRECTORY section: JSON describing the model and every tensor (spec in docs/FORMAT.md).
 * Parsing checks types and ranges; {@link EntroFile} then checks it against the section table.
 */
public record EntroDirectory(ModelConfig config, JsonNode hfConfig, JsonNode source, JsonNode settings,
                             List<EntroEntry> entries, GgufOrigin gguf, java.util.Map<String, Integer> companions) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public EntroDirectory {
        companions = companions == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(companions));
    }

    public EntroDirectory(ModelConfig config, JsonNode hfConfig, JsonNode source, JsonNode settings, List<EntroEntry> entries) {
        this(config, hfConfig, source, settings, entries, null, null);
    }

    /**
     * What rebuilds the GGUF file a model was compressed from with {@code --keep-quantization} ({@link GgufOrigins}):
     * the GGUF_HEADER section (the file's first {@code dataStart} bytes, then the data of tensors without a
     * directory entry), the data alignment, the file's size and CRC32C, and its tensors in file order.
     */
    public record GgufOrigin(int headerSection, long headerBytes, long dataStart, long alignment, long fileBytes, int crc32c, List<GgufTensor> tensors) {}

    /**
     * A tensor of the source GGUF, {@code bytes} long: held by directory entry {@code entry} (Hugging Face name and
     * row order; {@code ropeHeads} > 0 for llama q/k rows permuted with that many heads), or, with entry -1, found at
     * {@code headerOffset} of the GGUF_HEADER section.
     */
    public record GgufTensor(String name, int entry, int ropeHeads, long bytes, long headerOffset) {}

    /** The version this directory's content needs: 2 for GGML-coded tensors, f16 scales, a GGUF origin or companion files, else 1. */
    public int formatVersion() {
        boolean v2 = gguf != null || !companions.isEmpty() || entries.stream().anyMatch(e ->
                e instanceof EntroEntry.GgmlCoded || e instanceof EntroEntry.Quantized q && q.paramsDtype() != DType.F32);
        return v2 ? 2 : EntroLayout.FIRST_VERSION;
    }

    public byte[] toJsonBytes() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", "entrollm");
        root.put("version", formatVersion());
        root.set("model", config == null ? null : JSON.valueToTree(config));
        root.set("hf_config", hfConfig);
        root.set("source", source);
        root.set("settings", settings);
        ArrayNode tensors = root.putArray("tensors");
        for (EntroEntry e : entries) {
            ObjectNode t = tensors.addObject();
            t.put("name", e.name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            t.put("source_dtype", e.sourceDtype().name());
            switch (e) {
                case EntroEntry.Raw r -> {
                    t.put("encoding", "raw");
                    t.put("raw_section", r.rawSection());
                }
                case EntroEntry.Packed pk -> {
                    t.put("encoding", "packed");
                    quantFields(t, pk);
                    t.put("packed_section", pk.packedSection());
                    t.put("entropy_bits", pk.entropyBits());
                    t.put("mse", pk.mse());
                }
                case EntroEntry.GgmlCoded g -> {
                    t.put("encoding", "ggml-huffman");
                    t.put("bits", g.bits());
                    huffmanFields(t, g);
                    t.put("side_section", g.sideSection());
                    t.put("entropy_bits", g.entropyBits());
                }
                case EntroEntry.Coded c -> {
                    t.put("encoding", "huffman");
                    quantFields(t, c);
                    huffmanFields(t, c);
                    t.put("entropy_bits", c.entropyBits());
                    t.put("mse", c.mse());
                }
            }
        }
        if (!companions.isEmpty()) {
            ObjectNode c = root.putObject("companions");
            companions.forEach(c::put);
        }
        if (gguf != null) {
            ObjectNode g = root.putObject("gguf");
            g.put("header_section", gguf.headerSection());
            g.put("header_bytes", gguf.headerBytes());
            g.put("data_start", gguf.dataStart());
            g.put("alignment", gguf.alignment());
            g.put("file_bytes", gguf.fileBytes());
            g.put("crc32c", Integer.toUnsignedLong(gguf.crc32c()));
            ArrayNode ts = g.putArray("tensors");
            for (GgufTensor gt : gguf.tensors()) {
                ts.addObject().put("name", gt.name()).put("entry", gt.entry()).put("rope_heads", gt.ropeHeads())
                        .put("bytes", gt.bytes()).put("header_offset", gt.headerOffset());
            }
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void huffmanFields(ObjectNode t, EntroEntry.HuffmanCoded c) {
        t.put("chunk_symbols", c.chunkSymbols());
        t.put("total_bits", c.totalBits());
        t.put("max_code_length", c.maxCodeLength());
        t.put("codebook_section", c.codebookSection());
        t.put("chunk_index_section", c.chunkIndexSection());
        t.put("bitstream_section", c.bitstreamSection());
    }

    private static void quantFields(ObjectNode t, EntroEntry.Quantized q) {
        t.put("bits", q.bits());
        t.put("scheme", q.scheme().name());
        t.put("granularity", q.granularity().toString());
        t.put("group_size", q.groupSize());
        t.put("sign", q.sign());
        t.put("params_section", q.paramsSection());
        if (q.paramsDtype() != DType.F32) t.put("params_dtype", q.paramsDtype().name());
    }

    /** Parses and range-checks; errors are IllegalArgumentExceptions naming the tensor. */
    public static EntroDirectory parse(byte[] json, int headerVersion) {
        JsonNode root = io.entrollm.format.StrictJson.read(json, "directory");
        if (!root.isObject() || !"entrollm".equals(root.path("format").asText())) {
            throw new IllegalArgumentException("directory is not an EntroLLM directory");
        }
        if (!root.path("version").isIntegralNumber() || root.path("version").asLong() != headerVersion) {
            throw new IllegalArgumentException("directory version " + root.path("version") + " does not match the header's version " + headerVersion);
        }
        ModelConfig config = null;
        if (root.hasNonNull("model")) {
            try {
                config = JSON.treeToValue(root.get("model"), ModelConfig.class);
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("directory holds an invalid model config: " + e.getMessage());
            }
        }
        List<EntroEntry> entries = new ArrayList<>();
        for (JsonNode t : root.path("tensors")) entries.add(entry(t));
        GgufOrigin gguf = root.hasNonNull("gguf") ? gguf(root.get("gguf"), entries.size()) : null;
        java.util.Map<String, Integer> companions = new java.util.TreeMap<>();
        if (root.has("companions")) {
            if (!root.get("companions").isObject()) throw new IllegalArgumentException("companions is not an object");
            for (var it = root.get("companions").fields(); it.hasNext(); ) {
                var e = it.next();
                // names become file names when decompressed: only the known ones, never a path
                if (!io.entrollm.model.ModelSource.COMPANION_FILES.contains(e.getKey())) {
                    throw new IllegalArgumentException("companion file '" + e.getKey() + "' is not one of " + io.entrollm.model.ModelSource.COMPANION_FILES);
                }
                companions.put(e.getKey(), intField(root.get("companions"), e.getKey(), 0, Integer.MAX_VALUE));
            }
        }
        EntroDirectory d = new EntroDirectory(config, nullable(root.get("hf_config")), nullable(root.get("source")),
                nullable(root.get("settings")), List.copyOf(entries), gguf, companions);
        if (d.formatVersion() > headerVersion) {
            throw new IllegalArgumentException("a version " + headerVersion + " file cannot hold GGML-coded tensors, f16 scales, a GGUF origin or companion files (version 2 content)");
        }
        return d;
    }

    private static GgufOrigin gguf(JsonNode g, int entries) {
        List<GgufTensor> tensors = new ArrayList<>();
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (JsonNode t : g.path("tensors")) {
            String name = t.path("name").asText(null);
            if (name == null) throw new IllegalArgumentException("gguf: a tensor without a name");
            int entry = intField(t, "entry", -1, entries - 1);
            if (entry >= 0 && !used.add(entry)) throw new IllegalArgumentException("gguf: entry " + entry + " is used twice");
            tensors.add(new GgufTensor(name, entry, intField(t, "rope_heads", 0, 1 << 20), longField(t, "bytes", 0, Long.MAX_VALUE / 4),
                    longField(t, "header_offset", 0, Long.MAX_VALUE / 4)));
        }
        return new GgufOrigin(intField(g, "header_section", 0, Integer.MAX_VALUE), longField(g, "header_bytes", 0, Integer.MAX_VALUE - 8),
                longField(g, "data_start", 0, Long.MAX_VALUE / 4),
                longField(g, "alignment", 1, 1 << 20), longField(g, "file_bytes", 0, Long.MAX_VALUE / 4),
                (int) longField(g, "crc32c", 0, 0xFFFFFFFFL), List.copyOf(tensors));
    }

    /** Symbols and weights are decoded into Java arrays, which hold at most this many elements. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static JsonNode nullable(JsonNode n) { return n == null || n.isNull() ? null : n; }

    private static EntroEntry entry(JsonNode t) {
        String name = t.path("name").asText(null);
        if (name == null) throw new IllegalArgumentException("directory entry without a name");
        try {
            long[] shape = new long[t.path("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = t.path("shape").get(i);
                if (!d.isIntegralNumber() || d.asLong() < 0) throw new IllegalArgumentException("bad shape " + t.path("shape"));
                shape[i] = d.asLong();
            }
            long elements = io.entrollm.tensor.Tensor.elementCount(shape); // overflow check
            if (elements > MAX_ELEMENTS) {
                throw new IllegalArgumentException(elements + " elements: more than the " + MAX_ELEMENTS + " this reader holds in one tensor");
            }
            DType dtype = DType.parse(t.path("source_dtype").asText());
            String encoding = t.path("encoding").asText();
            if (encoding.equals("raw")) return new EntroEntry.Raw(name, shape, dtype, intField(t, "raw_section", 0, Integer.MAX_VALUE));
            if (encoding.equals("ggml-huffman")) return ggmlCoded(t, name, shape, dtype);
            if (!encoding.equals("huffman") && !encoding.equals("packed")) throw new IllegalArgumentException("unknown encoding '" + encoding + "'");
            int bits = intField(t, "bits", 2, 8);
            AppliedScheme scheme;
            try {
                scheme = AppliedScheme.valueOf(t.path("scheme").asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown scheme '" + t.path("scheme").asText() + "'");
            }
            Granularity granularity = Granularity.parse(t.path("granularity").asText());
            long groupSize = longField(t, "group_size", 1, Long.MAX_VALUE);
            int sign = intField(t, "sign", -1, 1);
            if (sign == 0) throw new IllegalArgumentException("sign must be +1 or -1");
            if (shape.length != 2) throw new IllegalArgumentException("coded tensors must be 2-D");
            long n = shape[0] * shape[1];
            if (n > 0 && n % groupSize != 0) throw new IllegalArgumentException("group size " + groupSize + " does not divide " + n);
            long implied = switch (granularity.kind()) {
                case TENSOR -> Math.max(n, 1);
                case CHANNEL -> Math.max(shape[1], 1);
                case GROUP -> granularity.groupSize();
            };
            if (groupSize != implied) {
                throw new IllegalArgumentException("group_size " + groupSize + " disagrees with granularity " + t.path("granularity").asText()
                        + " (which means " + implied + ")");
            }
            DType paramsDtype = DType.F32;
            if (t.has("params_dtype")) {
                paramsDtype = DType.parse(t.path("params_dtype").asText());
                if (paramsDtype != DType.F32 && paramsDtype != DType.F16) throw new IllegalArgumentException("params_dtype must be F32 or F16, not " + paramsDtype);
            }
            if (encoding.equals("packed")) {
                return new EntroEntry.Packed(name, shape, dtype, bits, scheme, granularity, groupSize, sign,
                        intField(t, "params_section", 0, Integer.MAX_VALUE), paramsDtype, intField(t, "packed_section", 0, Integer.MAX_VALUE),
                        t.path("entropy_bits").asDouble(Double.NaN), t.path("mse").asDouble(Double.NaN));
            }
            return new EntroEntry.Coded(name, shape, dtype, bits, scheme, granularity, groupSize, sign,
                    intField(t, "chunk_symbols", 1, Integer.MAX_VALUE), longField(t, "total_bits", 0, Long.MAX_VALUE / 2),
                    intField(t, "max_code_length", 0, 16),
                    intField(t, "params_section", 0, Integer.MAX_VALUE), paramsDtype, intField(t, "codebook_section", 0, Integer.MAX_VALUE),
                    intField(t, "chunk_index_section", 0, Integer.MAX_VALUE), intField(t, "bitstream_section", 0, Integer.MAX_VALUE),
                    t.path("entropy_bits").asDouble(Double.NaN), t.path("mse").asDouble(Double.NaN));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "': " + e.getMessage());
        }
    }

    private static EntroEntry.GgmlCoded ggmlCoded(JsonNode t, String name, long[] shape, DType dtype) {
        if (!dtype.isBlockQuantized()) throw new IllegalArgumentException("ggml-huffman needs a GGML block type, not " + dtype);
        int bits = io.entrollm.tensor.GgmlSymbols.bits(dtype);
        if (intField(t, "bits", 2, 8) != bits) throw new IllegalArgumentException(dtype + " symbols have " + bits + " bits, not " + t.path("bits"));
        if (shape.length == 0 || shape[shape.length - 1] % dtype.blockElements() != 0) {
            throw new IllegalArgumentException("rows of " + java.util.Arrays.toString(shape) + " are not whole " + dtype + " blocks of " + dtype.blockElements());
        }
        return new EntroEntry.GgmlCoded(name, shape, dtype, bits, intField(t, "chunk_symbols", 1, Integer.MAX_VALUE),
                longField(t, "total_bits", 0, Long.MAX_VALUE / 2), intField(t, "max_code_length", 0, 16),
                intField(t, "side_section", 0, Integer.MAX_VALUE), intField(t, "codebook_section", 0, Integer.MAX_VALUE),
                intField(t, "chunk_index_section", 0, Integer.MAX_VALUE), intField(t, "bitstream_section", 0, Integer.MAX_VALUE),
                t.path("entropy_bits").asDouble(Double.NaN));
    }

    private static long longField(JsonNode t, String key, long min, long max) {
        JsonNode n = t.get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
            throw new IllegalArgumentException("field " + key + " missing or out of range [" + min + ", " + max + "]: " + n);
        }
        return n.asLong();
    }

    private static int intField(JsonNode t, String key, int min, int max) { return (int) longField(t, key, min, max); }
}
