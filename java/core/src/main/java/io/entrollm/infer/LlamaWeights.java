package io.entrollm.infer;

import io.entrollm.infer.kernels.StoredLinears;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A Llama-family model's weights for the CPU path, resolved through {@link LlamaLayout} from any source
 * with Hugging Face names (open it with {@code ModelSources.openHuggingFace}), in one of two forms:
 * <ul>
 *   <li>{@link #load}: float32 copies of everything, the reference the other paths are checked against;</li>
 *   <li>{@link #loadStored}: matrices computed from their stored form ({@link StoredLinears}: bf16, int8/int4
 *       symbols, GGML blocks in place; Huffman decoded once into packed symbols), so memory and bandwidth
 *       follow the stored bits.</li>
 * </ul>
 * Norms and biases are float32 in both. Close it to free what {@code loadStored} decoded.
 */
public final class LlamaWeights implements AutoCloseable {
    /** One decoder layer; matrices are {@code [out, in]}, biases may be null. */
    public record Layer(float[] attnNorm, Linear wq, float[] bq, Linear wk, float[] bk, Linear wv, float[] bv,
                        Linear wo, float[] bo, float[] ffnNorm, Linear wGate, Linear wUp, Linear wDown) {}

    public final ModelConfig config;
    public final Linear embedding;    // (vocab, dim), read a row at a time
    public final Layer[] layers;
    public final float[] finalNorm;   // (dim)
    public final Linear lmHead;       // (vocab, dim); the embedding itself when tied
    private final Arena arena;

    private LlamaWeights(ModelConfig config, Linear embedding, Layer[] layers, float[] finalNorm, Linear lmHead, Arena arena) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.arena = arena;
    }

    /**
     * These weights with every decoder-layer matrix seen through {@code wrap}, given the name of the
     * tensor it comes from (calibration observes their inputs this way). The view owns nothing: close
     * this object, not the view.
     */
    public LlamaWeights viewLayerMatrices(LlamaLayout layout, java.util.function.BiFunction<String, Linear, Linear> wrap) {
        Layer[] wrapped = new Layer[layers.length];
        for (int l = 0; l < layers.length; l++) {
            Layer a = layers[l];
            LlamaLayout.Layer n = layout.layers[l];
            wrapped[l] = new Layer(a.attnNorm(), wrap.apply(n.wq().tensor(), a.wq()), a.bq(), wrap.apply(n.wk().tensor(), a.wk()), a.bk(),
                    wrap.apply(n.wv().tensor(), a.wv()), a.bv(), wrap.apply(n.wo().tensor(), a.wo()), a.bo(), a.ffnNorm(),
                    wrap.apply(n.wGate().tensor(), a.wGate()), wrap.apply(n.wUp().tensor(), a.wUp()), wrap.apply(n.wDown().tensor(), a.wDown()));
        }
        return new LlamaWeights(config, embedding, wrapped, finalNorm, lmHead, null);
    }

    /** Float32 copies of every weight (the reference forward pass's input). */
    public static LlamaWeights load(ModelSource source) {
        LlamaLayout layout = LlamaLayout.of(source);
        Map<String, float[]> whole = new HashMap<>(); // each tensor converted once, fused ones included
        java.util.function.Function<LlamaLayout.WeightRef, float[]> floats = floats(whole, n -> TensorReader.toFloats(source.tensor(n)));
        java.util.function.Function<LlamaLayout.WeightRef, Linear> matrix = ref -> new io.entrollm.infer.kernels.FloatLinear(
                MemorySegment.ofArray(floats.apply(ref)), DType.F32, Math.toIntExact(ref.rows()), Math.toIntExact(ref.cols()), 0);
        return build(layout, floats, matrix, matrix, null);
    }

    /** Matrices from their stored form (decoded ones live off-heap until {@link #close}); norms and biases as float32. */
    public static LlamaWeights loadStored(ModelSource source) {
        LlamaLayout layout = LlamaLayout.of(source);
        Arena arena = Arena.ofShared();
        try {
            StoredLinears linears = new StoredLinears(arena);
            java.util.function.Function<LlamaLayout.WeightRef, Linear> matrix = ref -> linears.of(source.stored(ref.tensor()), ref.rowOffset(), ref.rows());
            java.util.function.Function<LlamaLayout.WeightRef, Linear> rows = ref -> linears.rowsOf(source.stored(ref.tensor()), ref.rowOffset(), ref.rows());
            // norms and biases through stored(): a .entro source's tensors() would dequantize every matrix
            return build(layout, floats(new HashMap<>(), n -> source.stored(n).dequantize()), matrix, rows, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A reference's float32 values, each tensor converted once by {@code convert} (fused ones included). */
    private static java.util.function.Function<LlamaLayout.WeightRef, float[]> floats(Map<String, float[]> whole,
                                                                                     java.util.function.Function<String, float[]> convert) {
        return ref -> {
            if (ref == null) return null;
            float[] all = whole.computeIfAbsent(ref.tensor(), convert);
            int from = Math.toIntExact(ref.rowOffset() * ref.cols());
            return from == 0 && ref.elements() == all.length ? all : Arrays.copyOfRange(all, from, Math.toIntExact(from + ref.elements()));
        };
    }

    private static LlamaWeights build(LlamaLayout layout, java.util.function.Function<LlamaLayout.WeightRef, float[]> floats,
                                      java.util.function.Function<LlamaLayout.WeightRef, Linear> matrix,
                                      java.util.function.Function<LlamaLayout.WeightRef, Linear> rowsOnly, Arena arena) {
        Layer[] layers = new Layer[layout.layers.length];
        for (int l = 0; l < layers.length; l++) {
            LlamaLayout.Layer L = layout.layers[l];
            layers[l] = new Layer(floats.apply(L.attnNorm()), matrix.apply(L.wq()), floats.apply(L.bq()), matrix.apply(L.wk()),
                    floats.apply(L.bk()), matrix.apply(L.wv()), floats.apply(L.bv()), matrix.apply(L.wo()), floats.apply(L.bo()),
                    floats.apply(L.ffnNorm()), matrix.apply(L.wGate()), matrix.apply(L.wUp()), matrix.apply(L.wDown()));
        }
        boolean tied = layout.lmHead.equals(layout.embedding);
        // an untied embedding is only read a row per token: it need not be resident whole
        Linear embedding = tied ? matrix.apply(layout.embedding) : rowsOnly.apply(layout.embedding);
        Linear head = tied ? embedding : matrix.apply(layout.lmHead);
        return new LlamaWeights(layout.config, embedding, layers, floats.apply(layout.finalNorm), head, arena);
    }

    /** Bytes the matrices occupy in memory in the form computed from (norms and biases not counted). */
    public long matrixBytes() { return embedding.bytes() + (lmHead == embedding ? 0 : lmHead.bytes()) + layerMatrixBytes(); }

    /** Bytes of the decoder layers' matrices: what one token reads from memory in them. */
    public long layerMatrixBytes() {
        long sum = 0;
        for (Layer L : layers) {
            for (Linear m : new Linear[] {L.wq(), L.wk(), L.wv(), L.wo(), L.wGate(), L.wUp(), L.wDown()}) sum += m.bytes();
        }
        return sum;
    }

    /** Bytes of the output head, which every token reads whole (the embedding only a row per token). */
    public long headBytes() { return lmHead.bytes(); }

    private boolean closed;

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (arena != null) arena.close();
    }
}
