package io.entrollm.infer;

import io.entrollm.format.FormatException;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;

import java.util.Arrays;
import java.util.Optional;

/**
 * Where each weight of a Llama-family model lives: a tensor name and a range of its rows. Fused
 * tensors (Phi-3 {@code qkv_proj}, {@code gate_up_proj}) become row ranges of one tensor, so the CPU
 * and GPU paths resolve weights the same way and never copy a fused matrix apart on the device.
 */
public final class LlamaLayout {
    /** Rows {@code [rowOffset, rowOffset + rows)} of tensor {@code tensor}, each {@code cols} wide. */
    public record WeightRef(String tensor, long rowOffset, long rows, long cols) {
        public long elements() { return rows * cols; }
    }

    /** One decoder layer; biases are null when the model has none. */
    public record Layer(WeightRef attnNorm, WeightRef wq, WeightRef bq, WeightRef wk, WeightRef bk, WeightRef wv, WeightRef bv,
                        WeightRef wo, WeightRef bo, WeightRef ffnNorm, WeightRef wGate, WeightRef wUp, WeightRef wDown) {}

    public final ModelConfig config;
    public final WeightRef embedding;
    public final Layer[] layers;
    public final WeightRef finalNorm;
    public final WeightRef lmHead;

    private LlamaLayout(ModelConfig config, WeightRef embedding, Layer[] layers, WeightRef finalNorm, WeightRef lmHead) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    /** The seven matrices of a layer (views of fused tensors as the matmuls see them). */
    public static WeightRef[] matrices(Layer L) {
        return new WeightRef[] {L.wq(), L.wk(), L.wv(), L.wo(), L.wGate(), L.wUp(), L.wDown()};
    }

    /** The most weights of one decoder-layer matrix (as a matmul sees it). */
    public long largestLayerMatrix() {
        long largest = 0;
        for (Layer L : layers) for (WeightRef r : matrices(L)) largest = Math.max(largest, r.elements());
        return largest;
    }

    /** The widest input of any decoder-layer matmul (hidden size, attention width or MLP width). */
    public int widestLayerInput() {
        long widest = 0;
        for (Layer L : layers) for (WeightRef r : matrices(L)) widest = Math.max(widest, r.cols());
        return Math.toIntExact(widest);
    }

    /** Resolves and shape-checks every weight of {@code source} (Hugging Face names). */
    public static LlamaLayout of(ModelSource source) {
        ModelConfig c = source.config().orElseThrow(() -> new FormatException(source.path(), source.whyNoConfig().orElse("no model config")));
        if (!SUPPORTED.containsKey(c.architecture()) || !SUPPORTED.containsValue(c.modelType())) {
            throw new FormatException(source.path(), "architecture " + c.architecture() + " (model_type " + c.modelType()
                    + ") is not supported; Llama-family models are: " + String.join(", ", SUPPORTED.keySet()));
        }
        Rope.problem(c.ropeScaling()).ifPresent(p -> { throw new FormatException(source.path(), p); });
        int dim = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), ffn = c.intermediateSize();
        WeightRef embedding = matrix(source, "model.embed_tokens.weight", c.vocabSize(), dim);
        checkLayerCount(source, c.numLayers());
        Layer[] layers = new Layer[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            WeightRef wq, wk, wv, bq = null, bk = null, bv = null;
            if (source.shape(p + "self_attn.qkv_proj.weight").isPresent()) {
                String n = p + "self_attn.qkv_proj.weight";
                check(source, n, q + 2L * kv, dim);
                wq = new WeightRef(n, 0, q, dim);
                wk = new WeightRef(n, q, kv, dim);
                wv = new WeightRef(n, q + kv, kv, dim);
            } else {
                wq = matrix(source, p + "self_attn.q_proj.weight", q, dim);
                wk = matrix(source, p + "self_attn.k_proj.weight", kv, dim);
                wv = matrix(source, p + "self_attn.v_proj.weight", kv, dim);
                bq = vector(source, p + "self_attn.q_proj.bias", q).orElse(null);
                bk = vector(source, p + "self_attn.k_proj.bias", kv).orElse(null);
                bv = vector(source, p + "self_attn.v_proj.bias", kv).orElse(null);
            }
            WeightRef wGate, wUp;
            if (source.shape(p + "mlp.gate_up_proj.weight").isPresent()) {
                String n = p + "mlp.gate_up_proj.weight";
                check(source, n, 2L * ffn, dim);
                wGate = new WeightRef(n, 0, ffn, dim);
                wUp = new WeightRef(n, ffn, ffn, dim);
            } else {
                wGate = matrix(source, p + "mlp.gate_proj.weight", ffn, dim);
                wUp = matrix(source, p + "mlp.up_proj.weight", ffn, dim);
            }
            layers[l] = new Layer(vector(source, p + "input_layernorm.weight", dim).orElseThrow(() -> missing(source, p + "input_layernorm.weight")),
                    wq, bq, wk, bk, wv, bv, matrix(source, p + "self_attn.o_proj.weight", dim, q),
                    vector(source, p + "self_attn.o_proj.bias", dim).orElse(null),
                    vector(source, p + "post_attention_layernorm.weight", dim).orElseThrow(() -> missing(source, p + "post_attention_layernorm.weight")),
                    wGate, wUp, matrix(source, p + "mlp.down_proj.weight", dim, ffn));
        }
        WeightRef norm = vector(source, "model.norm.weight", dim).orElseThrow(() -> missing(source, "model.norm.weight"));
        WeightRef head;
        if (source.shape("lm_head.weight").isPresent()) {
            head = matrix(source, "lm_head.weight", c.vocabSize(), dim);
        } else if (c.tieWordEmbeddings()) {
            head = embedding;
        } else {
            throw new FormatException(source.path(), "no lm_head.weight and tie_word_embeddings is false");
        }
        return new LlamaLayout(c, embedding, layers, norm, head);
    }

    /** Hugging Face architecture class and model_type of every model this layout runs. */
    private static final java.util.Map<String, String> SUPPORTED = java.util.Map.of(
            "LlamaForCausalLM", "llama", "MistralForCausalLM", "mistral", "Qwen2ForCausalLM", "qwen2", "Phi3ForCausalLM", "phi3");

    /**
     * The config's layer count must be the weights' (a config that says 1 while the weights hold 2 would
     * silently run half a model), checked from tensor names before anything is sized by the count.
     */
    private static void checkLayerCount(ModelSource s, int declared) {
        int highest = -1;
        for (String name : s.tensorNames()) {
            if (!name.startsWith("model.layers.")) continue;
            int dot = name.indexOf('.', "model.layers.".length());
            String n = dot < 0 ? "" : name.substring("model.layers.".length(), dot);
            if (n.isEmpty() || n.length() > 9 || !n.chars().allMatch(Character::isDigit)) {
                throw FormatException.forTensor(s.path(), name, "is not a tensor of a numbered layer");
            }
            highest = Math.max(highest, Integer.parseInt(n));
        }
        if (highest + 1 != declared) {
            throw new FormatException(s.path(), "the config declares " + declared + " layers (num_hidden_layers) but the weights hold "
                    + (highest + 1));
        }
    }

    private static FormatException missing(ModelSource s, String name) {
        return new FormatException(s.path(), "missing tensor '" + name + "'");
    }

    private static WeightRef matrix(ModelSource s, String name, long rows, long cols) {
        check(s, name, rows, cols);
        return new WeightRef(name, 0, rows, cols);
    }

    private static Optional<WeightRef> vector(ModelSource s, String name, long n) {
        return s.shape(name).map(shape -> {
            if (!Arrays.equals(shape, new long[] {n})) throw shapeError(s, name, shape, new long[] {n});
            return new WeightRef(name, 0, 1, n);
        });
    }

    private static void check(ModelSource s, String name, long rows, long cols) {
        long[] shape = s.shape(name).orElseThrow(() -> missing(s, name));
        if (!Arrays.equals(shape, new long[] {rows, cols})) throw shapeError(s, name, shape, new long[] {rows, cols});
    }

    private static FormatException shapeError(ModelSource s, String name, long[] shape, long[] expected) {
        return FormatException.forTensor(s.path(), name, "has shape " + Arrays.toString(shape)
                + ", the config implies " + Arrays.toString(expected));
    }
}
