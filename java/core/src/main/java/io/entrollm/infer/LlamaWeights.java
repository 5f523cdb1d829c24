package io.entrollm.infer;

import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.tensor.TensorReader;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Float32 copies of a Llama-family model's weights for the CPU path, resolved through
 * {@link LlamaLayout} from any source with Hugging Face names (open it with
 * {@code ModelSources.openHuggingFace}).
 */
public final class LlamaWeights {
    /** One decoder layer; matrices are {@code [out, in]} row-major, biases may be null. */
    public record Layer(float[] attnNorm, float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv,
                        float[] wo, float[] bo, float[] ffnNorm, float[] wGate, float[] wUp, float[] wDown) {}

    public final ModelConfig config;
    public final float[] embedding;   // (vocab, dim)
    public final Layer[] layers;
    public final float[] finalNorm;   // (dim)
    public final float[] lmHead;      // (vocab, dim); the embedding itself when tied

    private LlamaWeights(ModelConfig config, float[] embedding, Layer[] layers, float[] finalNorm, float[] lmHead) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    public static LlamaWeights load(ModelSource source) {
        LlamaLayout layout = LlamaLayout.of(source);
        Map<String, float[]> whole = new HashMap<>(); // each tensor converted once, fused ones included
        java.util.function.Function<LlamaLayout.WeightRef, float[]> get = ref -> {
            if (ref == null) return null;
            float[] all = whole.computeIfAbsent(ref.tensor(), n -> TensorReader.toFloats(source.tensor(n)));
            int from = Math.toIntExact(ref.rowOffset() * ref.cols());
            return from == 0 && ref.elements() == all.length ? all : Arrays.copyOfRange(all, from, Math.toIntExact(from + ref.elements()));
        };
        Layer[] layers = new Layer[layout.layers.length];
        for (int l = 0; l < layers.length; l++) {
            LlamaLayout.Layer L = layout.layers[l];
            layers[l] = new Layer(get.apply(L.attnNorm()), get.apply(L.wq()), get.apply(L.bq()), get.apply(L.wk()), get.apply(L.bk()),
                    get.apply(L.wv()), get.apply(L.bv()), get.apply(L.wo()), get.apply(L.bo()), get.apply(L.ffnNorm()),
                    get.apply(L.wGate()), get.apply(L.wUp()), get.apply(L.wDown()));
        }
        return new LlamaWeights(layout.config, get.apply(layout.embedding), layers, get.apply(layout.finalNorm), get.apply(layout.lmHead));
    }
}
