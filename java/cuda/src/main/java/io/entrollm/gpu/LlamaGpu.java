package io.entrollm.gpu;

import io.entrollm.container.EntroEntry;
import io.entrollm.container.EntroFile;
import io.entrollm.container.EntroModel;
import io.entrollm.infer.CausalLm;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.infer.Rope;
import io.entrollm.model.HuggingFaceView;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The GPU forward pass. DECODED residency: every weight lives in GPU memory as float32, coded .entro
 * tensors decoded there once by the Huffman kernel (never on the host). COMPRESSED residency: coded
 * layer weights stay coded on the GPU and each layer is decoded into per-role scratch buffers just
 * before it runs (same stream, so no extra synchronisation). Matmuls through cuBLAS
 * (fp32 compute); norms, RoPE, attention and SwiGLU through cuda-kernels/llama_ops.cu; the KV cache
 * on the GPU, with the k/v projections written straight into it. Mirrors {@code LlamaCpu} step by step.
 *
 * <p>Launches per forward call (a prompt block or one generated token): 1 embedding gather, then per
 * layer 7 GEMMs, 2 norms, 1 RoPE, 1 attention, 1 SwiGLU and 2 residual adds (14; up to 4 more with
 * biases), then the final norm and the head GEMM; plus one upload of the token ids and one download
 * of the logits. sotu-tiny (8 layers): 115 launches per token. CUDA graphs would collapse them (not yet).
 */
public final class LlamaGpu implements CausalLm {
    private final CudaContext ctx;
    private final Blas blas;
    private final CudaStream stream = new CudaStream();
    private final LlamaOpsLauncher ops;
    private final LlamaLayout layout;
    private final ModelConfig c;
    private final Map<String, DeviceBuffer> weights;
    /** COMPRESSED mode: coded tensors resident on the GPU, and one scratch buffer per weight role. */
    private final Map<String, GpuDecoder.ResidentTensor> coded;
    private final Map<String, DeviceBuffer> scratchByRole;
    private final io.entrollm.residency.ResidencyMode mode;
    private final DeviceBuffer invFreq;
    private DeviceBuffer[] kCache = new DeviceBuffer[0], vCache = new DeviceBuffer[0];
    private int capacity;
    private int scratchTokens;
    private DeviceBuffer x, xb, q, att, o, gate, up, tokenIds, logits;

    private LlamaGpu(CudaContext ctx, Blas blas, LlamaLayout layout, Map<String, DeviceBuffer> weights,
                     Map<String, GpuDecoder.ResidentTensor> coded, Map<String, DeviceBuffer> scratchByRole, io.entrollm.residency.ResidencyMode mode,
                     DeviceBuffer invFreq) {
        this.ctx = ctx;
        this.coded = coded;
        this.scratchByRole = scratchByRole;
        this.mode = mode;
        this.blas = blas;
        this.layout = layout;
        this.c = layout.config;
        this.weights = weights;
        this.invFreq = invFreq;
        this.ops = new LlamaOpsLauncher(ctx);
        blas.setStream(stream);
    }

    /** Uploads (or, for .entro, decodes on the GPU) every weight of {@code source} (Hugging Face names). */
    public static LlamaGpu load(CudaContext ctx, ModelSource source) {
        return load(ctx, source, io.entrollm.residency.ResidencyMode.DECODED);
    }

    /**
     * Loads in the given residency mode: DECODED (every weight decoded once) or COMPRESSED (coded
     * .entro tensors stay coded on the GPU and are decoded layer by layer into scratch buffers).
     */
    public static LlamaGpu load(CudaContext ctx, ModelSource source, io.entrollm.residency.ResidencyMode mode) {
        ctx.makeCurrent();
        if (mode == io.entrollm.residency.ResidencyMode.STREAMED) {
            throw new IllegalArgumentException("the streamed residency mode is not implemented yet (decoded and compressed are)");
        }
        LlamaLayout layout = LlamaLayout.of(source);
        ModelSource inner = source instanceof HuggingFaceView v ? v.unwrap() : source;
        EntroFile entro = inner instanceof EntroModel m ? m.file() : null;
        if (mode == io.entrollm.residency.ResidencyMode.COMPRESSED && entro == null) {
            throw new IllegalArgumentException(source.path() + ": the compressed residency mode needs a .entro model");
        }
        Map<String, DeviceBuffer> weights = new LinkedHashMap<>();
        Map<String, GpuDecoder.ResidentTensor> prepared = new LinkedHashMap<>();
        Map<String, DeviceBuffer> scratch = new LinkedHashMap<>();
        Blas blas = null;
        DeviceBuffer inv = null;
        try (CudaStream s = new CudaStream()) {
            GpuDecoder decoder = new GpuDecoder(ctx);
            Map<String, Long> roleBytes = new LinkedHashMap<>();
            for (String name : tensorNames(layout)) {
                EntroEntry.Quantized coded = entro == null ? null : entro.entries().stream()
                        .filter(e -> e.name().equals(name) && e instanceof EntroEntry.Quantized).map(e -> (EntroEntry.Quantized) e)
                        .findFirst().orElse(null);
                if (coded != null && mode == io.entrollm.residency.ResidencyMode.COMPRESSED && layerOf(name) >= 0) {
                    prepared.put(name, decoder.prepare(entro, coded));
                    roleBytes.merge(role(name), 4 * coded.elementCount(), Math::max);
                } else if (coded != null) {
                    weights.put(name, decoder.decode(entro, coded, OutputType.F32, s).buffer());
                } else {
                    float[] w = entro != null ? hostWeights(entro, name) : TensorReader.toFloats(source.tensor(name));
                    weights.put(name, DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(w), "weight '" + name + "'"));
                }
            }
            for (Map.Entry<String, Long> r : roleBytes.entrySet()) {
                scratch.put(r.getKey(), DeviceBuffer.allocate(ctx, r.getValue(), "decode scratch for " + r.getKey()));
            }
            double[] f = new Rope(layout.config).inverseFrequencies();
            float[] ff = new float[f.length];
            for (int i = 0; i < f.length; i++) ff[i] = (float) f[i];
            inv = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(ff), "RoPE frequencies");
            blas = Blas.open(ctx);
            return new LlamaGpu(ctx, blas, layout, weights, prepared, scratch, mode, inv);
        } catch (RuntimeException e) {
            weights.values().forEach(DeviceBuffer::close);
            prepared.values().forEach(GpuDecoder.ResidentTensor::close);
            scratch.values().forEach(DeviceBuffer::close);
            if (inv != null) inv.close();
            if (blas != null) blas.close();
            throw e;
        }
    }

    /** A raw .entro tensor as float32 on the host (quantized ones are decoded on the GPU). */
    private static float[] hostWeights(EntroFile f, String name) {
        return f.entries().stream().filter(x -> x.name().equals(name) && x instanceof EntroEntry.Raw)
                .map(x -> TensorReader.toFloats(f.rawTensor((EntroEntry.Raw) x))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(f.path() + ": missing tensor '" + name + "'"));
    }

    private static Set<String> tensorNames(LlamaLayout l) {
        Set<String> names = new LinkedHashSet<>();
        names.add(l.embedding.tensor());
        for (LlamaLayout.Layer L : l.layers) {
            for (LlamaLayout.WeightRef r : new LlamaLayout.WeightRef[] {L.attnNorm(), L.wq(), L.bq(), L.wk(), L.bk(), L.wv(), L.bv(), L.wo(),
                    L.bo(), L.ffnNorm(), L.wGate(), L.wUp(), L.wDown()}) {
                if (r != null) names.add(r.tensor());
            }
        }
        names.add(l.finalNorm.tensor());
        names.add(l.lmHead.tensor());
        return names;
    }

    private static int layerOf(String name) { return io.entrollm.model.LlamaTensorNames.layerOf(name); }

    private static String role(String name) { return io.entrollm.model.LlamaTensorNames.roleOf(name); }

    private DeviceSlice w(LlamaLayout.WeightRef r) {
        DeviceBuffer b = coded.containsKey(r.tensor()) ? scratchByRole.get(role(r.tensor())) : weights.get(r.tensor());
        return b.slice(4 * r.rowOffset() * r.cols(), 4 * r.elements());
    }

    /** COMPRESSED mode: decodes layer {@code l}'s coded weights into the scratch buffers, on the compute stream. */
    private void decodeLayer(int l) {
        String prefix = "model.layers." + l + ".";
        for (Map.Entry<String, GpuDecoder.ResidentTensor> e : coded.entrySet()) {
            if (e.getKey().startsWith(prefix)) e.getValue().launch(OutputType.F32, scratchByRole.get(role(e.getKey())), stream);
        }
    }

    public io.entrollm.residency.ResidencyMode mode() { return mode; }

    /** GPU bytes held by the weights in this mode: decoded tensors, coded tensors and decode scratch. */
    public long residentWeightBytes() {
        return weights.values().stream().mapToLong(DeviceBuffer::bytes).sum()
                + coded.values().stream().mapToLong(GpuDecoder.ResidentTensor::deviceBytes).sum()
                + scratchByRole.values().stream().mapToLong(DeviceBuffer::bytes).sum();
    }


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
        logits = DeviceBuffer.allocate(ctx, 4 * t * c.vocabSize(), "logits");
        scratchTokens = tokens;
    }

    @Override
    public float[] forward(int[] tokens, int pos0, int logitRows) {
        ctx.makeCurrent();
        int T = tokens.length, dim = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.intermediateSize();
        if (pos0 + T > capacity) throw new IllegalArgumentException("context of " + (pos0 + T) + " tokens exceeds the cache (" + capacity + ")");
        if (logitRows < 0 || logitRows > T) throw new IllegalArgumentException("logitRows " + logitRows + " not in [0, " + T + "]");
        for (int tok : tokens) if (tok < 0 || tok >= c.vocabSize()) throw new IllegalArgumentException("token id " + tok + " outside the vocabulary");
        ensureScratch(T);
        tokenIds.upload(MemorySegment.ofArray(tokens));
        ops.embed(w(layout.embedding), tokenIds.whole(), x.whole(), T, dim, stream);
        for (int l = 0; l < c.numLayers(); l++) {
            LlamaLayout.Layer L = layout.layers[l];
            if (!coded.isEmpty()) decodeLayer(l);
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
        DeviceSlice last = x.slice(4L * (T - logitRows) * dim, 4L * logitRows * dim);
        ops.rmsnorm(last, w(layout.finalNorm), xb.whole(), logitRows, dim, (float) c.rmsNormEps(), stream);
        linear(layout.lmHead, null, xb.whole(), logits.whole(), c.vocabSize(), dim, logitRows);
        stream.synchronize();
        for (GpuDecoder.ResidentTensor p : coded.values()) p.checkError();
        float[] all = logits.downloadFloats();
        return java.util.Arrays.copyOf(all, logitRows * c.vocabSize());
    }

    private void linear(LlamaLayout.WeightRef weight, LlamaLayout.WeightRef bias, DeviceSlice in, DeviceSlice out, int outDim, int inDim, int tokens) {
        blas.linear(w(weight), in, Blas.R_32F, out, Blas.R_32F, outDim, inDim, tokens);
        if (bias != null) ops.addBias(out, w(bias), tokens, outDim, stream);
    }

    private void closeScratch() {
        for (DeviceBuffer b : new DeviceBuffer[] {x, xb, q, att, o, gate, up, tokenIds, logits}) if (b != null) b.close();
        scratchTokens = 0;
    }

    @Override
    public void close() {
        ctx.makeCurrent();
        closeScratch();
        for (DeviceBuffer b : kCache) b.close();
        for (DeviceBuffer b : vCache) b.close();
        weights.values().forEach(DeviceBuffer::close);
        coded.values().forEach(GpuDecoder.ResidentTensor::close);
        scratchByRole.values().forEach(DeviceBuffer::close);
        invFreq.close();
        blas.close();
        stream.close();
    }
}
