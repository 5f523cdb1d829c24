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
 * The GPU forward pass. Weights are computed from their GPU form ({@link GpuWeight}): packed uint8 /
 * uint4 symbols with float32 scales for quantized tensors, f16 / bf16 as stored, float32 for vectors
 * and float32 source files. Decoder-layer weights come from a {@link LayerWeights} chosen by the
 * residency mode: DECODED (every layer turned into its form once at load: Huffman-coded tensors
 * decoded into symbols), COMPRESSED (each layer's stored block resident on the GPU, its coded tensors
 * decoded into symbol scratch just before the layer runs, the rest read in place) or STREAMED (blocks
 * in pinned host memory, copied and turned into forms a layer ahead of the compute on their own
 * streams). Embedding, final norm and head are turned into forms once in every mode. Coded .entro
 * tensors are decoded on the GPU, never on the host.
 *
 * <p>Matmuls ({@link Matmuls}): generation through the GEMV kernels of cuda-kernels/gemv.cu, which
 * read the form and dequantize on the fly (0.5 byte a weight for uint4); prompts and perplexity windows
 * through cuBLAS GemmEx on f16 copies of one weight matrix at a time; float32 weights through SGEMM.
 * Norms, RoPE, attention and SwiGLU through cuda-kernels/llama_ops.cu; the KV cache
 * on the GPU in f16, each pass's keys and values appended to it at the position read on the GPU. Mirrors {@code LlamaCpu} step by
 * step. {@link #lastTraffic()} gives the bytes the last pass moved in GPU memory.
 *
 * <p>Launches per forward call (a prompt block or one generated token): 1 embedding gather, then per
 * layer 7 matmuls, 2 norms, 1 RoPE, 1 cache append, 1 attention, 1 SwiGLU and 2 residual adds (15; up
 * to 4 more with biases; a prompt's matmuls take 3 launches each plus 2 per extra weight slice; plus,
 * in the compressed and streamed modes, one batched Huffman launch per layer and one launch or copy per
 * other piece that is not read in place), then the final norm and the head matmul; plus one upload of
 * the token ids with the first position and one download of the logits. From the second generated token
 * on, the decoded and compressed modes replay the whole sequence as one captured CUDA graph
 * ({@link #setGraphs}): the position is read on the GPU, so the graph serves every position.
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
    private DeviceBuffer x, xb, q, att, o, gate, up, tokenIds, kNew, vNew, logits;
    private final GemvLauncher gemv;
    private final Matmuls matmuls;
    private final GpuTraffic.Counter traffic = new GpuTraffic.Counter();
    private GpuTraffic lastTraffic = new GpuTraffic(0, 0, 0, 0);
    /** A generated token's pass, captured at its first use (see {@link #setGraphs}); freed when a buffer it names is replaced. */
    private CudaGraph tokenGraph;
    /** The captured pass's traffic (its KV reads are those of the capture's position). */
    private GpuTraffic graphTraffic;
    /** On unless the system property {@code entrollm.cudaGraphs} is {@code false} (to measure what graphs save). */
    private boolean graphs = !"false".equals(System.getProperty("entrollm.cudaGraphs")), profiling, lastFromGraph;
    /** A single-token pass has run since the graph was last freed: every kernel it uses is loaded, so the next can be captured. */
    private boolean warmedUp;

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
        this.gemv = new GemvLauncher(ctx);
        this.matmuls = new Matmuls(ctx, blas, gemv, stream, io.entrollm.residency.ModelFootprint.f16SliceElements(layout), layout.widestLayerInput());
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
        return load(ctx, source, mode, streamFrom, false);
    }

    /**
     * As above; {@code fused} (the experimental fused mode, COMPRESSED only): generation passes multiply
     * straight from the Huffman-coded weights (cuda-kernels/huffman_gemv.cu), writing no weights at all;
     * prompts decode into symbols as the compressed mode does.
     */
    public static LlamaGpu load(CudaContext ctx, ModelSource source, ResidencyMode mode, StreamSource streamFrom, boolean fused) {
        if (fused && mode != ResidencyMode.COMPRESSED) throw new IllegalArgumentException("the fused matmul runs in the compressed residency mode, not " + mode);
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
                case COMPRESSED -> CompressedLayers.load(ctx, source.path(), blocks, fused);
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

    private GpuWeight weight(LlamaLayout.WeightRef r) {
        return LlamaTensorNames.layerOf(r.tensor()) >= 0 ? layers.weight(r.tensor()) : others.weight(r.tensor());
    }

    /** A float32 vector (a norm's or a bias's weights, or a row range of a fused one). */
    private DeviceSlice vector(LlamaLayout.WeightRef r) {
        DeviceSlice all = weight(r).f32();
        return all.buffer().slice(all.offset() + 4 * r.rowOffset() * r.cols(), 4 * r.elements());
    }

    public ResidencyMode mode() { return mode; }

    /** GPU bytes held by the weights in this mode: decoded tensors, resident or staging blocks, decode scratch. */
    public long residentWeightBytes() {
        return others.residentBytes() + layers.residentBytes();
    }

    /** Times the copy/decode/compute steps of each following forward pass (CUDA events); see {@link #lastTimeline()}. */
    public void setProfiling(boolean on) {
        layers.setProfiling(on);
        profiling = on;
        closeGraph(); // a captured pass has no events in it
    }

    /**
     * Whether single-token passes replay a captured CUDA graph (default: on, unless the system property
     * {@code entrollm.cudaGraphs} is {@code false}). The graph covers the decoded
     * and compressed modes (one stream; the streamed mode's three streams and host reads are not captured)
     * while profiling is off and the scores of the cache fit the attention kernel's default shared
     * memory ({@value #GRAPH_MAX_POSITIONS} positions).
     */
    public void setGraphs(boolean on) {
        graphs = on;
        if (!on) closeGraph();
    }

    /** Whether the last forward pass replayed the token graph. */
    public boolean lastPassFromGraph() { return lastFromGraph; }

    /** Cache positions whose attention scores fit 48 KiB of shared memory, what a graph's attention launch reserves for the whole cache. */
    static final int GRAPH_MAX_POSITIONS = 48 * 1024 / 4;

    private boolean graphPass(int T, int logitRows) {
        return graphs && T == 1 && logitRows == 1 && !profiling && mode != ResidencyMode.STREAMED && capacity <= GRAPH_MAX_POSITIONS;
    }

    private void closeGraph() {
        if (tokenGraph != null) tokenGraph.close();
        tokenGraph = null;
        warmedUp = false;
    }

    /** The per-layer steps of the last forward pass run with profiling on (empty in the decoded mode, which moves no weights). */
    public List<LayerTimeline.Step> lastTimeline() { return layers.lastTimeline(); }

    public String blasBinding() { return blas.binding(); }

    @Override public ModelConfig config() { return c; }

    @Override public String device() { return "gpu (" + ctx.deviceName() + ")"; }

    @Override
    public void startSequence(int capacity) {
        ctx.makeCurrent();
        if (capacity <= this.capacity) return;
        closeGraph();
        for (DeviceBuffer b : kCache) b.close();
        for (DeviceBuffer b : vCache) b.close();
        kCache = new DeviceBuffer[c.numLayers()];
        vCache = new DeviceBuffer[c.numLayers()];
        long bytes = 2L * capacity * c.kvDim(); // f16 keys and values
        for (int l = 0; l < c.numLayers(); l++) {
            kCache[l] = DeviceBuffer.allocate(ctx, bytes, "KV cache (keys, layer " + l + ")");
            vCache[l] = DeviceBuffer.allocate(ctx, bytes, "KV cache (values, layer " + l + ")");
        }
        this.capacity = capacity;
    }

    private void ensureScratch(int tokens) {
        if (tokens <= scratchTokens) return;
        closeScratch();
        closeGraph();
        long t = tokens;
        x = DeviceBuffer.allocate(ctx, 4 * t * c.hiddenSize(), "activations");
        xb = DeviceBuffer.allocate(ctx, 4 * t * c.hiddenSize(), "normed activations");
        q = DeviceBuffer.allocate(ctx, 4 * t * c.qDim(), "queries");
        att = DeviceBuffer.allocate(ctx, 4 * t * c.qDim(), "attention output");
        o = DeviceBuffer.allocate(ctx, 4 * t * c.hiddenSize(), "projection output");
        gate = DeviceBuffer.allocate(ctx, 4 * t * c.intermediateSize(), "MLP gate");
        up = DeviceBuffer.allocate(ctx, 4 * t * c.intermediateSize(), "MLP up");
        // the token ids, then the pass's first position (RoPE, the cache append and attention read it on the GPU)
        tokenIds = DeviceBuffer.allocate(ctx, 4 * (t + 1), "token ids and position");
        kNew = DeviceBuffer.allocate(ctx, 4 * t * c.kvDim(), "new keys");
        vNew = DeviceBuffer.allocate(ctx, 4 * t * c.kvDim(), "new values");
        matmuls.ensure(tokens);
        scratchTokens = tokens;
    }

    /** Logits for {@code rows} rows: generation asks for one row even after a long prompt, perplexity for every row. */
    private void ensureLogits(int rows) {
        if (logits != null && logits.bytes() >= 4L * rows * c.vocabSize()) return;
        closeGraph();
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
        // one upload: the token ids and the first position
        int[] idsAndPos = java.util.Arrays.copyOf(tokens, T + 1);
        idsAndPos[T] = pos0;
        tokenIds.upload(MemorySegment.ofArray(idsAndPos));
        if (hostEmbedding != null) x.upload(MemorySegment.ofArray(hostEmbedding.rows(tokens)));
        // the first single-token pass runs as it is (it loads the kernels it needs); the next is captured
        lastFromGraph = graphPass(T, logitRows) && (tokenGraph != null || warmedUp);
        if (graphPass(T, logitRows)) warmedUp = true;
        if (lastFromGraph) {
            if (tokenGraph == null) {
                // attention reserves shared memory for the whole cache: the graph serves every position
                tokenGraph = CudaGraph.capture(stream, () -> enqueuePass(T, pos0, logitRows, capacity));
                graphTraffic = traffic.snapshot();
            }
            tokenGraph.launch(stream);
            lastTraffic = new GpuTraffic(graphTraffic.weights(), graphTraffic.decode(), kvTraffic(T, pos0) * c.numLayers(), graphTraffic.activations());
        } else {
            enqueuePass(T, pos0, logitRows, pos0 + T);
            lastTraffic = traffic.snapshot();
        }
        stream.synchronize();
        layers.checkErrors();
        // only the rows asked for: the buffer holds the most rows asked for so far
        return logits.downloadFloats(Math.multiplyExact(logitRows, c.vocabSize()));
    }

    /**
     * Enqueues one pass on the compute stream, counting its traffic. Everything that depends on the
     * position is read on the GPU from the uploaded position, so a captured single-token pass replays
     * anywhere; {@code positions} sizes attention's shared memory (the pass's last position + 1, or the
     * whole cache for a graph).
     */
    private void enqueuePass(int T, int pos0, int logitRows, int positions) {
        int dim = c.hiddenSize();
        traffic.reset();
        traffic.decode = layers.decodeTrafficPerPass(T);
        traffic.activations += 4L * T * dim;
        if (hostEmbedding == null) {
            GpuWeight table = weight(layout.embedding);
            if (table.form() == GpuWeight.Form.F32) ops.embed(table.f32(), tokenIds.whole(), x.whole(), T, dim, stream);
            else gemv.embed(table, c.vocabSize(), dim, tokenIds.whole(), x.whole(), T, stream);
            traffic.weights += (long) T * Matmuls.viewBytes(table, dim);
        }
        layers.runLayers(c.numLayers(), T, stream, l -> layer(l, T, pos0, positions));
        DeviceSlice last = x.slice(4L * (T - logitRows) * dim, 4L * logitRows * dim);
        rmsnorm(last, layout.finalNorm, logitRows);
        linear(layout.lmHead, null, xb.whole(), logits.whole(), c.vocabSize(), dim, logitRows);
    }

    /**
     * One layer's KV-cache bytes for {@code T} tokens from position {@code pos0}: the append writes their
     * f16 keys and values; attention's query t reads those of positions 0 .. pos0 + t for each head.
     */
    private long kvTraffic(int T, int pos0) {
        return 2 * 2L * T * c.kvDim() + 2 * 2L * c.qDim() * ((long) T * (pos0 + 1) + (long) T * (T - 1) / 2);
    }

    /** Enqueues decoder layer {@code l} for {@code T} tokens at positions from {@code pos0} (read on the GPU) on the compute stream. */
    private void layer(int l, int T, int pos0, int positions) {
        int dim = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.intermediateSize();
        LlamaLayout.Layer L = layout.layers[l];
        DeviceSlice pos = tokenIds.slice(4L * T, 4);
        rmsnorm(x.whole(), L.attnNorm(), T);
        linear(L.wq(), L.bq(), xb.whole(), q.whole(), qDim, dim, T);
        linear(L.wk(), L.bk(), xb.whole(), kNew.whole(), kvDim, dim, T);
        linear(L.wv(), L.bv(), xb.whole(), vNew.whole(), kvDim, dim, T);
        ops.rope(q.whole(), kNew.whole(), invFreq.whole(), T, c.numHeads(), c.numKvHeads(), c.headDim(), pos, stream);
        ops.kvAppend(kNew.whole(), vNew.whole(), kCache[l].whole(), vCache[l].whole(), T * kvDim, kvDim, pos, stream);
        // RoPE reads and writes q and k; the append reads k and v (f32) and writes them to the cache (f16)
        traffic.activations += 2 * 4L * T * (qDim + kvDim) + 2 * 4L * T * kvDim;
        ops.attention(q.whole(), kCache[l].whole(), vCache[l].whole(), att.whole(), T, c.numHeads(), c.numKvHeads(), c.headDim(), pos, positions, stream);
        traffic.kvCache += kvTraffic(T, pos0);
        traffic.activations += 2 * 4L * T * qDim;
        linear(L.wo(), L.bo(), att.whole(), o.whole(), dim, qDim, T);
        ops.add(x.whole(), o.whole(), T * dim, stream);
        traffic.activations += 3 * 4L * T * dim;
        rmsnorm(x.whole(), L.ffnNorm(), T);
        linear(L.wGate(), null, xb.whole(), gate.whole(), ffn, dim, T);
        linear(L.wUp(), null, xb.whole(), up.whole(), ffn, dim, T);
        ops.siluMul(gate.whole(), up.whole(), T * ffn, stream);
        traffic.activations += 3 * 4L * T * ffn;
        linear(L.wDown(), null, gate.whole(), o.whole(), dim, ffn, T);
        ops.add(x.whole(), o.whole(), T * dim, stream);
        traffic.activations += 3 * 4L * T * dim;
    }

    private void rmsnorm(DeviceSlice in, LlamaLayout.WeightRef norm, int rows) {
        int dim = c.hiddenSize();
        ops.rmsnorm(in, vector(norm), xb.whole(), rows, dim, (float) c.rmsNormEps(), stream);
        traffic.weights += 4L * dim;
        traffic.activations += 2 * 4L * rows * dim;
    }

    /**
     * What the last forward pass read and wrote in GPU memory, by the kernels' accounting (see
     * {@link GpuTraffic}); after a generated token, one token's traffic.
     */
    public GpuTraffic lastTraffic() { return lastTraffic; }

    /** {@code out = in W^T (+ bias)} from W's GPU form ({@link Matmuls}). */
    private void linear(LlamaLayout.WeightRef ref, LlamaLayout.WeightRef bias, DeviceSlice in, DeviceSlice out, int outDim, int inDim, int tokens) {
        FormDecoder.Coded fused = layers.fused(ref.tensor(), tokens);   // null but for a fused mode's layer tensors
        matmuls.linear(weight(ref), fused, ref.rowOffset(), outDim, inDim, in, out, tokens, traffic);
        if (bias != null) {
            ops.addBias(out, vector(bias), tokens, outDim, stream);
            traffic.weights += 4L * outDim;
            traffic.activations += 2 * 4L * tokens * outDim;
        }
    }

    private void closeScratch() {
        for (DeviceBuffer b : new DeviceBuffer[] {x, xb, q, att, o, gate, up, tokenIds, kNew, vNew}) if (b != null) b.close();
        matmuls.close();
        scratchTokens = 0;
    }

    @Override
    public void close() {
        ctx.makeCurrent();
        closeGraph();
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
