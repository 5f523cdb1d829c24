package io.entrollm.gpu;

import io.entrollm.infer.CausalLm;
import io.entrollm.infer.EmbeddingRows;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.infer.Rope;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.LlamaTensorNames;
import io.entrollm.model.ModelSource;
import io.entrollm.residency.ResidencyMode;
import io.entrollm.residency.StreamSource;
import io.entrollm.residency.WeightBlock;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The GPU forward pass. Decoder-layer weights come from a {@link LayerWeights} chosen by the
 * residency mode: DECODED (every layer decoded once at load into float32 buffers), COMPRESSED (each
 * layer's stored block resident on the GPU, decoded into scratch just before the layer runs) or
 * STREAMED (blocks in pinned host memory, copied and decoded a layer ahead of the compute on their own
 * streams). Embedding, final norm and head are decoded once in every mode. Coded .entro tensors are
 * decoded on the GPU, never on the host. Matmuls through cuBLAS (fp32 compute); norms, RoPE,
 * attention and SwiGLU through cuda-kernels/llama_ops.cu; the KV cache on the GPU, with the k/v
 * projections written straight into it. Mirrors {@code LlamaCpu} step by step.
 *
 * <p>Launches per forward call (a prompt block or one generated token): 1 embedding gather, then per
 * layer 7 GEMMs, 2 norms, 1 RoPE, 1 attention, 1 SwiGLU and 2 residual adds (14; up to 4 more with
 * biases; plus, in the compressed and streamed modes, one batched Huffman launch per layer and one
 * launch per packed or unquantized layer tensor), then the
 * final norm and the head GEMM; plus one upload of the token ids and one download of the logits.
 * sotu-tiny (8 layers), decoded mode: 115 launches per token. CUDA graphs would collapse them (not yet).
 */
public final class LlamaGpu implements CausalLm {
    private final CudaContext ctx;
    private final Blas blas;
    private final CudaStream stream = new CudaStream();
    private final LlamaOpsLauncher ops;
    private final LlamaLayout layout;
    private final ModelConfig c;
    /** Embedding (unless read on the host), final norm and head, decoded to float32 at load in every mode. */
    private final DecodedLayers others;
    /** Untied models: the embedding rows of each pass, read on the host and uploaded; null when the table is on the GPU. */
    private final EmbeddingRows hostEmbedding;
    private final LayerWeights layers;
    private final ResidencyMode mode;
    private final DeviceBuffer invFreq;
    private DeviceBuffer[] kCache = new DeviceBuffer[0], vCache = new DeviceBuffer[0];
    private int capacity;
    private int scratchTokens;
    private DeviceBuffer x, xb, q, att, o, gate, up, tokenIds, logits;

    private LlamaGpu(CudaContext ctx, Blas blas, LlamaLayout layout, DecodedLayers others, EmbeddingRows hostEmbedding, LayerWeights layers,
                     ResidencyMode mode, DeviceBuffer invFreq) {
        this.hostEmbedding = hostEmbedding;
        this.ctx = ctx;
        this.layers = layers;
        this.mode = mode;
        this.blas = blas;
        this.layout = layout;
        this.c = layout.config;
        this.others = others;
        this.invFreq = invFreq;
        this.ops = new LlamaOpsLauncher(ctx);
        blas.setStream(stream);
    }

    /** Uploads (or, for .entro, decodes on the GPU) every weight of {@code source} (Hugging Face names). */
    public static LlamaGpu load(CudaContext ctx, ModelSource source) {
        return load(ctx, source, ResidencyMode.DECODED);
    }

    /** Loads in the given residency mode (streamed from pinned host memory); every mode works for every source format. */
    public static LlamaGpu load(CudaContext ctx, ModelSource source, ResidencyMode mode) {
        return load(ctx, source, mode, StreamSource.HOST);
    }

    /**
     * Loads in the given residency mode; {@code streamFrom} says where the streamed mode keeps the
     * layers (ignored by the other modes). Every mode works for every source format (.entro,
     * safetensors, GGUF).
     */
    public static LlamaGpu load(CudaContext ctx, ModelSource source, ResidencyMode mode, StreamSource streamFrom) {
        ctx.makeCurrent();
        LlamaLayout layout = LlamaLayout.of(source);
        DecodedLayers others = null;
        LayerWeights layerWeights = null;
        Blas blas = null;
        DeviceBuffer inv = null;
        try {
            EmbeddingRows hostEmbedding = EmbeddingRows.of(source, layout).orElse(null);
            List<String> otherNames = List.copyOf(new LinkedHashSet<>(hostEmbedding != null ? List.of(layout.finalNorm.tensor(), layout.lmHead.tensor())
                    : List.of(layout.embedding.tensor(), layout.finalNorm.tensor(), layout.lmHead.tensor())));
            others = DecodedLayers.load(ctx, source.path(), List.of(WeightBlock.of(source, -1, otherNames)));
            List<WeightBlock> blocks = WeightBlock.layers(source, layout);
            layerWeights = switch (mode) {
                case DECODED -> DecodedLayers.load(ctx, source.path(), blocks);
                case COMPRESSED -> CompressedLayers.load(ctx, source.path(), blocks);
                case STREAMED -> StreamedLayers.load(ctx, source.path(), blocks, streamFrom);
            };
            double[] f = new Rope(layout.config).inverseFrequencies();
            float[] ff = new float[f.length];
            for (int i = 0; i < f.length; i++) ff[i] = (float) f[i];
            inv = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(ff), "RoPE frequencies");
            blas = Blas.open(ctx);
            return new LlamaGpu(ctx, blas, layout, others, hostEmbedding, layerWeights, mode, inv);
        } catch (RuntimeException e) {
            if (others != null) others.close();
            if (layerWeights != null) layerWeights.close();
            if (inv != null) inv.close();
            if (blas != null) blas.close();
            throw e;
        }
    }

    private DeviceSlice w(LlamaLayout.WeightRef r) {
        DeviceBuffer b = LlamaTensorNames.layerOf(r.tensor()) >= 0 ? layers.decoded(r.tensor()) : others.decoded(r.tensor());
        return b.slice(4 * r.rowOffset() * r.cols(), 4 * r.elements());
    }

    public ResidencyMode mode() { return mode; }

    /** GPU bytes held by the weights in this mode: decoded tensors, resident or staging blocks, decode scratch. */
    public long residentWeightBytes() {
        return others.residentBytes() + layers.residentBytes();
    }

    /** Times the copy/decode/compute steps of each following forward pass (CUDA events); see {@link #lastTimeline()}. */
    public void setProfiling(boolean on) { layers.setProfiling(on); }

    /** The per-layer steps of the last forward pass run with profiling on (empty in the decoded mode, which moves no weights). */
    public List<LayerTimeline.Step> lastTimeline() { return layers.lastTimeline(); }

    public String blasBinding() { return blas.binding(); }

    @Override public ModelConfig config() { return c; }

    @Override public String device() { return "gpu (" + ctx.deviceName() + ")"; }

    @Override
    public void startSequence(int capacity) {
        ctx.makeCurrent();
        if (capacity <= this.capacity) return;
        for (DeviceBuffer b : kCache) b.close();
        for (DeviceBuffer b : vCache) b.close();
        kCache = new DeviceBuffer[c.numLayers()];
        vCache = new DeviceBuffer[c.numLayers()];
        long bytes = 4L * capacity * c.kvDim();
        for (int l = 0; l < c.numLayers(); l++) {
            kCache[l] = DeviceBuffer.allocate(ctx, bytes, "KV cache (keys, layer " + l + ")");
            vCache[l] = DeviceBuffer.allocate(ctx, bytes, "KV cache (values, layer " + l + ")");
        }
        this.capacity = capacity;
    }

    private void ensureScratch(int tokens) {
        if (tokens <= scratchTokens) return;
        closeScratch();
        long t = tokens;
        x = DeviceBuffer.allocate(ctx, 4 * t * c.hiddenSize(), "activations");
        xb = DeviceBuffer.allocate(ctx, 4 * t * c.hiddenSize(), "normed activations");
        q = DeviceBuffer.allocate(ctx, 4 * t * c.qDim(), "queries");
        att = DeviceBuffer.allocate(ctx, 4 * t * c.qDim(), "attention output");
        o = DeviceBuffer.allocate(ctx, 4 * t * c.hiddenSize(), "projection output");
        gate = DeviceBuffer.allocate(ctx, 4 * t * c.intermediateSize(), "MLP gate");
        up = DeviceBuffer.allocate(ctx, 4 * t * c.intermediateSize(), "MLP up");
        tokenIds = DeviceBuffer.allocate(ctx, 4 * t, "token ids");
        scratchTokens = tokens;
    }

    /** Logits for {@code rows} rows: generation asks for one row even after a long prompt, perplexity for every row. */
    private void ensureLogits(int rows) {
        if (logits != null && logits.bytes() >= 4L * rows * c.vocabSize()) return;
        if (logits != null) logits.close();
        logits = null; // not left pointing at freed memory if the allocation fails
        logits = DeviceBuffer.allocate(ctx, 4L * Math.max(1, rows) * c.vocabSize(), "logits");
    }

    @Override
    public float[] forward(int[] tokens, int pos0, int logitRows) {
        ctx.makeCurrent();
        int T = tokens.length, dim = c.hiddenSize();
        if (pos0 + T > capacity) throw new IllegalArgumentException("context of " + (pos0 + T) + " tokens exceeds the cache (" + capacity + ")");
        if (logitRows < 0 || logitRows > T) throw new IllegalArgumentException("logitRows " + logitRows + " not in [0, " + T + "]");
        for (int tok : tokens) if (tok < 0 || tok >= c.vocabSize()) throw new IllegalArgumentException("token id " + tok + " outside the vocabulary");
        ensureScratch(T);
        ensureLogits(logitRows);
        if (hostEmbedding != null) {
            x.upload(MemorySegment.ofArray(hostEmbedding.rows(tokens)));
        } else {
            tokenIds.upload(MemorySegment.ofArray(tokens));
            ops.embed(w(layout.embedding), tokenIds.whole(), x.whole(), T, dim, stream);
        }
        layers.runLayers(c.numLayers(), stream, l -> layer(l, T, pos0));
        DeviceSlice last = x.slice(4L * (T - logitRows) * dim, 4L * logitRows * dim);
        ops.rmsnorm(last, w(layout.finalNorm), xb.whole(), logitRows, dim, (float) c.rmsNormEps(), stream);
        linear(layout.lmHead, null, xb.whole(), logits.whole(), c.vocabSize(), dim, logitRows);
        stream.synchronize();
        layers.checkErrors();
        // only the rows asked for: the buffer holds the most rows asked for so far
        return logits.downloadFloats(Math.multiplyExact(logitRows, c.vocabSize()));
    }

    /** Enqueues decoder layer {@code l} for {@code T} tokens at positions from {@code pos0} on the compute stream. */
    private void layer(int l, int T, int pos0) {
        int dim = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.intermediateSize();
        LlamaLayout.Layer L = layout.layers[l];
        DeviceSlice kNew = kCache[l].slice(4L * pos0 * kvDim, 4L * T * kvDim), vNew = vCache[l].slice(4L * pos0 * kvDim, 4L * T * kvDim);
        ops.rmsnorm(x.whole(), w(L.attnNorm()), xb.whole(), T, dim, (float) c.rmsNormEps(), stream);
        linear(L.wq(), L.bq(), xb.whole(), q.whole(), qDim, dim, T);
        linear(L.wk(), L.bk(), xb.whole(), kNew, kvDim, dim, T);
        linear(L.wv(), L.bv(), xb.whole(), vNew, kvDim, dim, T);
        ops.rope(q.whole(), kNew, invFreq.whole(), T, c.numHeads(), c.numKvHeads(), c.headDim(), pos0, stream);
        ops.attention(q.whole(), kCache[l].whole(), vCache[l].whole(), att.whole(), T, c.numHeads(), c.numKvHeads(), c.headDim(), pos0, stream);
        linear(L.wo(), L.bo(), att.whole(), o.whole(), dim, qDim, T);
        ops.add(x.whole(), o.whole(), T * dim, stream);
        ops.rmsnorm(x.whole(), w(L.ffnNorm()), xb.whole(), T, dim, (float) c.rmsNormEps(), stream);
        linear(L.wGate(), null, xb.whole(), gate.whole(), ffn, dim, T);
        linear(L.wUp(), null, xb.whole(), up.whole(), ffn, dim, T);
        ops.siluMul(gate.whole(), up.whole(), T * ffn, stream);
        linear(L.wDown(), null, gate.whole(), o.whole(), dim, ffn, T);
        ops.add(x.whole(), o.whole(), T * dim, stream);
    }

    private void linear(LlamaLayout.WeightRef weight, LlamaLayout.WeightRef bias, DeviceSlice in, DeviceSlice out, int outDim, int inDim, int tokens) {
        blas.linear(w(weight), in, Blas.R_32F, out, Blas.R_32F, outDim, inDim, tokens);
        if (bias != null) ops.addBias(out, w(bias), tokens, outDim, stream);
    }

    private void closeScratch() {
        for (DeviceBuffer b : new DeviceBuffer[] {x, xb, q, att, o, gate, up, tokenIds}) if (b != null) b.close();
        scratchTokens = 0;
    }

    @Override
    public void close() {
        ctx.makeCurrent();
        closeScratch();
        if (logits != null) logits.close();
        for (DeviceBuffer b : kCache) b.close();
        for (DeviceBuffer b : vCache) b.close();
        others.close();
        layers.close();
        invFreq.close();
        blas.close();
        stream.close();
    }
}
