package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Host wrappers of cuda-kernels/llama_ops.cu: each checks its arguments, computes the geometry the
 * kernel's header comment describes, launches on the stream and checks the launch status.
 */
final class LlamaOpsLauncher {
    static final String MODULE = "llama_ops";
    private static final int THREADS = 256;
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext ctx;
    private final CUfunction rmsnorm, embed, rope, attention, siluMul, add, addBias, kvAppend;

    LlamaOpsLauncher(CudaContext ctx) {
        this.ctx = ctx;
        rmsnorm = ctx.function(MODULE, "llama_rmsnorm_f32");
        embed = ctx.function(MODULE, "llama_embed_f32");
        rope = ctx.function(MODULE, "llama_rope_f32");
        attention = ctx.function(MODULE, "llama_attention_f32");
        siluMul = ctx.function(MODULE, "llama_silu_mul_f32");
        add = ctx.function(MODULE, "llama_add_f32");
        addBias = ctx.function(MODULE, "llama_add_bias_f32");
        kvAppend = ctx.function(MODULE, "llama_kv_append_f32");
    }

    private static void launch(CUfunction f, String name, int gx, int gy, int block, int shared, CudaStream s, Pointer params) {
        if (gx <= 0 || gy <= 0) return;
        Cuda.check(JCudaDriver.cuLaunchKernel(f, gx, gy, 1, block, 1, 1, shared, s.handle(), params, null),
                "cuLaunchKernel(" + name + ", grid " + gx + "x" + gy + ", block " + block + ")");
    }

    private static int blocks(long n) { return (int) ((n + THREADS - 1) / THREADS); }

    void rmsnorm(DeviceSlice x, DeviceSlice weight, DeviceSlice out, int rows, int n, float eps, CudaStream s) {
        launch(rmsnorm, "llama_rmsnorm_f32", rows, 1, THREADS, 0, s, Pointer.to(Pointer.to(x.pointer()), Pointer.to(weight.pointer()),
                Pointer.to(out.pointer()), Pointer.to(new int[] {n}), Pointer.to(new float[] {eps})));
    }

    void embed(DeviceSlice table, DeviceSlice tokens, DeviceSlice out, int count, int dim, CudaStream s) {
        launch(embed, "llama_embed_f32", count, 1, THREADS, 0, s, Pointer.to(Pointer.to(table.pointer()), Pointer.to(tokens.pointer()),
                Pointer.to(out.pointer()), Pointer.to(new int[] {dim})));
    }

    /** RoPE at positions {@code *pos0 + t}: {@code pos0} is one int32 in device memory. */
    void rope(DeviceSlice q, DeviceSlice k, DeviceSlice invFreq, int tokens, int heads, int kvHeads, int headDim, DeviceSlice pos0, CudaStream s) {
        long threads = (long) tokens * (heads + kvHeads) * (headDim / 2);
        launch(rope, "llama_rope_f32", blocks(threads), 1, THREADS, 0, s, Pointer.to(Pointer.to(q.pointer()), Pointer.to(k.pointer()),
                Pointer.to(invFreq.pointer()), Pointer.to(new int[] {tokens}), Pointer.to(new int[] {heads}), Pointer.to(new int[] {kvHeads}),
                Pointer.to(new int[] {headDim}), Pointer.to(pos0.pointer())));
    }

    /** The pass's {@code n} key and value floats into the caches at position {@code *pos0} (device memory). */
    void kvAppend(DeviceSlice kNew, DeviceSlice vNew, DeviceSlice kCache, DeviceSlice vCache, int n, int kvDim, DeviceSlice pos0, CudaStream s) {
        launch(kvAppend, "llama_kv_append_f32", blocks(n), 1, THREADS, 0, s, Pointer.to(Pointer.to(kNew.pointer()), Pointer.to(vNew.pointer()),
                Pointer.to(kCache.pointer()), Pointer.to(vCache.pointer()), Pointer.to(new int[] {n}), Pointer.to(new int[] {kvDim}), Pointer.to(pos0.pointer())));
    }

    /**
     * Attention of {@code tokens} queries at positions {@code *pos0 + t} (device memory) over the caches;
     * {@code positions} bounds {@code *pos0 + tokens} and sizes the scores' shared memory.
     */
    void attention(DeviceSlice q, DeviceSlice kCache, DeviceSlice vCache, DeviceSlice out, int tokens, int heads, int kvHeads, int headDim,
                   DeviceSlice pos0, int positions, CudaStream s) {
        int shared = 4 * positions;
        if (shared > DEFAULT_SHARED_LIMIT) {
            // beyond 48 KiB a kernel must opt in; the call fails, with this message, past what the GPU allows
            Cuda.check(JCudaDriver.cuFuncSetAttribute(attention, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared),
                    "cuFuncSetAttribute(attention shared memory = " + shared + " bytes; context " + positions
                            + " exceeds what this GPU's shared memory holds for the scores)");
        }
        launch(attention, "llama_attention_f32", heads, tokens, 128, shared, s, Pointer.to(Pointer.to(q.pointer()),
                Pointer.to(kCache.pointer()), Pointer.to(vCache.pointer()), Pointer.to(out.pointer()), Pointer.to(new int[] {heads}),
                Pointer.to(new int[] {kvHeads}), Pointer.to(new int[] {headDim}), Pointer.to(pos0.pointer()),
                Pointer.to(new float[] {(float) (1.0 / Math.sqrt(headDim))})));
    }

    void siluMul(DeviceSlice gate, DeviceSlice up, int n, CudaStream s) {
        launch(siluMul, "llama_silu_mul_f32", blocks(n), 1, THREADS, 0, s,
                Pointer.to(Pointer.to(gate.pointer()), Pointer.to(up.pointer()), Pointer.to(new int[] {n})));
    }

    void add(DeviceSlice x, DeviceSlice y, int n, CudaStream s) {
        launch(add, "llama_add_f32", blocks(n), 1, THREADS, 0, s, Pointer.to(Pointer.to(x.pointer()), Pointer.to(y.pointer()), Pointer.to(new int[] {n})));
    }

    void addBias(DeviceSlice out, DeviceSlice bias, int rows, int cols, CudaStream s) {
        launch(addBias, "llama_add_bias_f32", blocks((long) rows * cols), 1, THREADS, 0, s, Pointer.to(Pointer.to(out.pointer()),
                Pointer.to(bias.pointer()), Pointer.to(new int[] {rows}), Pointer.to(new int[] {cols})));
    }

    CudaContext context() { return ctx; }
}
