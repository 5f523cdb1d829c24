package io.entrollm.synthetic;


import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.format.safetensors.ShardedSafetensors;
import io.entrollm.io.AtomicDirectory;
import io.entrollm.io.AtomicFile;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Models with the shapes of real ones (SmolLM-1.7B, Phi-3-mini, Mistral-7B) and random weights, so
 * benchmarks move the bytes and run the matmuls of the seed paper's models without downloading them.
 * Written as a Hugging Face directory (sharded safetensors, config.json marked
 * {@code "entrollm_synthetic": "<preset>"}, a byte-level tokenizer.json), usable by every command,
 * which appears whole or not at all.
 *
 * <p>Values are resampled from a trained donor model ({@link Donor}, the bundled sotu-tiny by
 * default): each synthetic row copies the value distribution of a random donor row of the same role
 * (q/k/v/o, gate/up/down, norms, embedding, head), drawing values from it with replacement, scaled by
 * sqrt(donor width / synthetic width) so activations keep their size. Quantized entropies, and so the
 * entropy-coded sizes and the bytes a token moves, are therefore those of the donor's trained weights
 * (and what a bench row reports is measured on the synthetic file), not those of the real checkpoint.
 * Each row comes from its own generator seeded by (seed, tensor name, row), so a model is the same
 * bytes whatever the thread count.
 */
public final class SyntheticModels {
    /** A real model's architecture; {@code layers} may be reduced with {@link #withLayers}. */
    public record Preset(String name, String realModel, String modelType, int hidden, int intermediate, int layers, int heads, int kvHeads,
                         int vocab, boolean tied, boolean fusedProjections, int maxPositions) {
        public Preset withLayers(int n) {
            if (n < 1) throw new IllegalArgumentException("at least one layer");
            return new Preset(name, realModel, modelType, hidden, intermediate, n, heads, kvHeads, vocab, tied, fusedProjections, maxPositions);
        }

        /** Parameters of the whole model. */
        public long parameters() {
            long kv = (long) hidden / heads * kvHeads;
            long layer = (long) hidden * (hidden + 2 * kv) + (long) hidden * hidden + 3L * hidden * intermediate + 2L * hidden;
            return layers * layer + (tied ? 1L : 2L) * vocab * hidden + hidden;
        }
    }

    /** Shapes from each model's config.json on the Hugging Face hub. */
    public static final Map<String, Preset> PRESETS = presets();

    private static Map<String, Preset> presets() {
        Map<String, Preset> m = new LinkedHashMap<>();
        for (Preset p : List.of(
                new Preset("smollm-1.7b", "HuggingFaceTB/SmolLM-1.7B", "llama", 2048, 8192, 24, 32, 32, 49152, true, false, 2048),
                new Preset("phi-3-mini", "microsoft/Phi-3-mini-4k-instruct", "phi3", 3072, 8192, 32, 32, 32, 32064, false, true, 4096),
                new Preset("mistral-7b", "mistralai/Mistral-7B-v0.1", "mistral", 4096, 14336, 32, 32, 8, 32000, false, false, 32768),
                // for tests: every code path of the big ones (GQA, fused projections off), in milliseconds
                new Preset("tiny", "none (test shape)", "llama", 64, 160, 2, 4, 2, 300, false, false, 256))) {
            m.put(p.name(), p);
        }
        return Map.copyOf(m);
    }

    /** Shard size of the written checkpoint, as Hugging Face's default. */
    static final long SHARD_BYTES = 2L << 30;

    private SyntheticModels() {}

    public static Preset preset(String name) {
        Preset p = PRESETS.get(name);
        if (p == null) throw new IllegalArgumentException("unknown synthetic model '" + name + "' (one of " + String.join(", ", PRESETS.keySet()) + ")");
        return p;
    }

    /**
     * Writes {@code preset} as a Hugging Face directory in {@code dtype} (BF16, F16 or F32), values
     * resampled from {@code donor}.
     *
     * @param progress called with the number of tensors written so far, or null
     */
    public static void write(Preset preset, DType dtype, long seed, Donor donor, Path dir, IntConsumer progress) throws IOException {
        if (dtype != DType.BF16 && dtype != DType.F16 && dtype != DType.F32) throw new IllegalArgumentException("dtype must be bf16, f16 or f32");
        List<long[]> shapes = new ArrayList<>();
        List<String> names = tensorNames(preset, shapes);
        List<List<Integer>> shards = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < names.size(); i++) {
            long b = dtype.byteSize(Tensor.elementCount(shapes.get(i)));
            if (!current.isEmpty() && bytes + b > SHARD_BYTES) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(i);
            bytes += b;
        }
        shards.add(current);
        int[] done = {0};
        try (AtomicDirectory out = AtomicDirectory.create(dir)) {
            ShardedSafetensors.writeShards(out.path(), shards.size(), s -> shards.get(s).stream().map(i -> {
                Tensor t = tensor(names.get(i), shapes.get(i), dtype, seed, donor, preset);
                if (progress != null) progress.accept(++done[0]);
                return t;
            }).toList());
            AtomicFile.write(out.path().resolve("config.json"), configJson(preset, dtype, donor).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            AtomicFile.write(out.path().resolve("tokenizer.json"), byteTokenizerJson(preset.vocab()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.commit();
        }
    }

    /** Hugging Face tensor names in checkpoint order; fills {@code shapes} alongside. */
    public static List<String> tensorNames(Preset p, List<long[]> shapes) {
        List<String> names = new ArrayList<>();
        long kv = (long) p.hidden() / p.heads() * p.kvHeads();
        add(names, shapes, "model.embed_tokens.weight", p.vocab(), p.hidden());
        for (int l = 0; l < p.layers(); l++) {
            String pre = "model.layers." + l + ".";
            add(names, shapes, pre + "input_layernorm.weight", p.hidden());
            if (p.fusedProjections()) {
                add(names, shapes, pre + "self_attn.qkv_proj.weight", p.hidden() + 2 * kv, p.hidden());
            } else {
                add(names, shapes, pre + "self_attn.q_proj.weight", p.hidden(), p.hidden());
                add(names, shapes, pre + "self_attn.k_proj.weight", kv, p.hidden());
                add(names, shapes, pre + "self_attn.v_proj.weight", kv, p.hidden());
            }
            add(names, shapes, pre + "self_attn.o_proj.weight", p.hidden(), p.hidden());
            add(names, shapes, pre + "post_attention_layernorm.weight", p.hidden());
            if (p.fusedProjections()) {
                add(names, shapes, pre + "mlp.gate_up_proj.weight", 2L * p.intermediate(), p.hidden());
            } else {
                add(names, shapes, pre + "mlp.gate_proj.weight", p.intermediate(), p.hidden());
                add(names, shapes, pre + "mlp.up_proj.weight", p.intermediate(), p.hidden());
            }
            add(names, shapes, pre + "mlp.down_proj.weight", p.hidden(), p.intermediate());
        }
        add(names, shapes, "model.norm.weight", p.hidden());
        if (!p.tied()) add(names, shapes, "lm_head.weight", p.vocab(), p.hidden());
        return names;
    }

    private static void add(List<String> names, List<long[]> shapes, String name, long... shape) {
        names.add(name);
        shapes.add(shape);
    }

    /** One tensor of {@code p}: each row resampled from a donor row of the same role. Rows in parallel. */
    public static Tensor tensor(String name, long[] shape, DType dtype, long seed, Donor donor, Preset p) {
        long rows = shape.length == 1 ? 1 : shape[0], cols = shape[shape.length - 1];
        long bytes = dtype.byteSize(rows * cols);
        if (bytes > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor '" + name + "' too large for one array: " + bytes + " bytes");
        MemorySegment data = MemorySegment.ofArray(new byte[(int) bytes]);
        long nameSeed = seed * 0x9E3779B97F4A7C15L ^ name.hashCode();
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        IntStream.range(0, (int) rows).parallel().forEach(r -> {
            SplittableRandom rnd = new SplittableRandom(nameSeed + 0x632BE59BD9B4E019L * (r + 1));
            Donor.Role role = Donor.roleOf(name, r, p);
            float[] donorRow = donor.row(role, rnd);
            float scale = role.isNorm() ? 1f : (float) Math.sqrt(donor.width(role) / (double) cols);
            for (long c = 0; c < cols; c++) {
                float v = scale * donorRow[rnd.nextInt(donorRow.length)];
                long i = r * cols + c;
                switch (dtype) {
                    case BF16 -> data.set(i16, 2 * i, FloatBits.floatToBf16(v));
                    case F16 -> data.set(i16, 2 * i, FloatBits.floatToF16(v));
                    default -> data.set(f32, 4 * i, v);
                }
            }
        });
        return new Tensor(name, dtype, shape, data);
    }

    static String configJson(Preset p, DType dtype, Donor donor) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = json.createObjectNode();
        String arch = switch (p.modelType()) {
            case "phi3" -> "Phi3ForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            default -> "LlamaForCausalLM";
        };
        c.putArray("architectures").add(arch);
        c.put("model_type", p.modelType());
        c.put("entrollm_synthetic", p.name());
        c.put("entrollm_synthetic_of", p.realModel());
        c.put("entrollm_synthetic_values_from", donor.description());
        c.put("hidden_size", p.hidden());
        c.put("intermediate_size", p.intermediate());
        c.put("num_hidden_layers", p.layers());
        c.put("num_attention_heads", p.heads());
        c.put("num_key_value_heads", p.kvHeads());
        c.put("vocab_size", p.vocab());
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("max_position_embeddings", p.maxPositions());
        c.put("tie_word_embeddings", p.tied());
        c.put("hidden_act", "silu");
        c.put("bos_token_id", 0);
        c.put("eos_token_id", 1);
        c.put("torch_dtype", dtype == DType.BF16 ? "bfloat16" : dtype == DType.F16 ? "float16" : "float32");
        return c.toPrettyString();
    }

    /** A byte-level BPE tokenizer with no merges: ids 0/1 are BOS/EOS, 2 + b is byte b. Enough to run text through; not a real vocabulary. */
    /**
     * A byte-level tokenizer that covers all {@code vocabSize} ids: specials 0 and 1, the 256 bytes, and a
     * placeholder token ({@code <synthetic-N>}) for every other id, so whatever a synthetic model
     * generates decodes to text (no merges: encoding yields bytes only).
     */
    static String byteTokenizerJson(int vocabSize) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 0).put("content", "<s>").put("special", true);
        added.addObject().put("id", 1).put("content", "</s>").put("special", true);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            vocab.put(String.valueOf((char) (printable ? b : 256 + n++)), 2 + b);
        }
        for (int id = 2 + 256; id < vocabSize; id++) vocab.put("<synthetic-" + id + ">", id);
        model.putArray("merges");
        return root.toPrettyString();
    }
}
