package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * Host wrapper of cuda-kernels/gemv.cu: matmuls from the weights' GPU form (a warp per output row, 8
 * rows per block), embedding rows gathered from it, and the f16 copies of the prompt path. Each method
 * checks its arguments, computes the geometry the kernel's header comment describes, launches on the
 * stream and checks the launch status.
 */
final class GemvLauncher {
    static final String MODULE = "gemv";
    static final String HUFFMAN_MODULE = "huffman_gemv";
    /** Rows per block (gemv.cu kWarps) and tokens per register batch (kTokens). */
    static final int ROWS_PER_BLOCK = 8, TOKENS_PER_PASS = 8;
    private static final int THREADS = 256;
    /** Enough blocks of a grid-stride kernel to fill any GPU this project targets. */
    private static final int MAX_STRIDE_BLOCKS = 1024;

    private final CudaContext ctx;

    GemvLauncher(CudaContext ctx) { this.ctx = ctx; }

    static String kernel(GpuWeight.Form form) {
        return switch (form) {
            case U8 -> "entro_gemv_u8";
            case U4 -> "entro_gemv_u4";
            case F16 -> "entro_gemv_f16";
            case BF16 -> "entro_gemv_bf16";
            case F32 -> throw new IllegalArgumentException("float32 weights multiply through cuBLAS");
        };
    }

    private static void launch(CUfunction f, String name, long blocks, int threads, CudaStream s, Pointer params) {
        if (blocks <= 0) return;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": grid of " + blocks + " blocks");
        Cuda.check(JCudaDriver.cuLaunchKernel(f, (int) blocks, 1, 1, threads, 1, 1, 0, s.handle(), params, null),
                "cuLaunchKernel(" + name + ", grid " + blocks + ", block " + threads + ")");
    }

    /**
     * {@code y[t][r] = sum_c W[firstRow + r][c] * x[t][c]} for {@code r < rows}, {@code t < tokens}: x is
     * {@code tokens x cols} float32, y {@code tokens x rows} float32.
     */
    void gemv(GpuWeight w, long firstRow, int rows, int cols, DeviceSlice x, DeviceSlice y, int tokens, CudaStream s) {
        if (x.bytes() < 4L * tokens * cols || y.bytes() < 4L * tokens * rows) {
            throw new IllegalArgumentException("gemv of " + tokens + " x " + cols + " -> " + rows + " with " + x.bytes() + " / " + y.bytes() + " bytes");
        }
        String name = kernel(w.form());
        launch(ctx.function(MODULE, name), name, (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, THREADS, s,
                Pointer.to(Pointer.to(w.params(firstRow, rows, cols)), Pointer.to(x.pointer()), Pointer.to(y.pointer()), Pointer.to(new int[] {tokens})));
    }

    /** Chunks per block of the fused kernel (huffman_gemv.cu). */
    static final int FUSED_THREADS = 128;
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    /**
     * {@code y[t][r] = sum_c W[firstRow + r][c] * x[t][c]} straight from Huffman-coded W (cuda-kernels/
     * huffman_gemv.cu) for at most {@link #TOKENS_PER_PASS} tokens: y is zeroed, then every chunk that
     * overlaps the rows adds its products. A corrupt chunk sets {@code p}'s error word.
     */
    void huffman(DecodeParams p, long firstRow, int rows, int cols, DeviceSlice x, DeviceSlice y, int tokens, CudaStream s) {
        if (tokens < 1 || tokens > TOKENS_PER_PASS) throw new IllegalArgumentException("the fused matmul takes 1.." + TOKENS_PER_PASS + " tokens, not " + tokens);
        long first = firstRow * cols, end = first + (long) rows * cols;
        if (firstRow < 0 || rows < 1 || cols < 1 || end > p.nSymbols()) throw new IllegalArgumentException("rows [" + firstRow + ", +" + rows + ") x " + cols + " outside " + p.nSymbols() + " symbols");
        if (x.bytes() < 4L * tokens * cols || y.bytes() < 4L * tokens * rows) throw new IllegalArgumentException("fused matmul buffers too small");
        Cuda.check(JCudaDriver.cuMemsetD8Async(y.pointer(), (byte) 0, 4L * tokens * rows, s.handle()), "cuMemsetD8Async (fused matmul output)");
        long firstChunk = first / p.chunkSymbols(), lastChunk = (end - 1) / p.chunkSymbols();
        CUfunction f = ctx.function(HUFFMAN_MODULE, "entro_gemv_huffman");
        int shared = 4 * ((1 << p.tableBits()) + 1) / 2;
        if (shared > DEFAULT_SHARED_LIMIT) {
            Cuda.check(JCudaDriver.cuFuncSetAttribute(f, jcuda.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared),
                    "cuFuncSetAttribute(max dynamic shared memory = " + shared + ")");
        }
        // the kernel reads only the view's first element, rows and columns: the weights come from p
        byte[] view = GpuWeight.paramsImage(0, 0, 0, first, 1, rows, cols, 0, 0, 0, 0);
        long blocks = (lastChunk - firstChunk + FUSED_THREADS) / FUSED_THREADS;
        Cuda.check(JCudaDriver.cuLaunchKernel(f, (int) blocks, 1, 1, FUSED_THREADS, 1, 1, shared, s.handle(),
                Pointer.to(Pointer.to(p.toBytes()), Pointer.to(view), Pointer.to(x.pointer()), Pointer.to(y.pointer()),
                        Pointer.to(new int[] {tokens}), Pointer.to(new int[] {Math.toIntExact(firstChunk)})), null),
                "cuLaunchKernel(entro_gemv_huffman, grid " + blocks + ", shared " + shared + ")");
    }

    /** {@code out[t] = W[tokens[t]]} for a {@code cols}-wide table W in a form other than float32. */
    void embed(GpuWeight w, int vocab, int cols, DeviceSlice tokens, DeviceSlice out, int count, CudaStream s) {
        if (out.bytes() < 4L * count * cols || tokens.bytes() < 4L * count) throw new IllegalArgumentException("embedding of " + count + " tokens");
        launch(ctx.function(MODULE, "entro_embed_rows"), "entro_embed_rows", count, THREADS, s,
                Pointer.to(Pointer.to(w.params(0, vocab, cols)), Pointer.to(tokens.pointer()), Pointer.to(out.pointer())));
    }

    /** Rows {@code [firstRow, firstRow + rows)} of W as f16 into {@code out} ({@code rows x cols} halves). */
    void toF16(GpuWeight w, long firstRow, int rows, int cols, DeviceSlice out, CudaStream s) {
        long n = (long) rows * cols;
        if (out.bytes() < 2 * n) throw new IllegalArgumentException(n + " halves into " + out.bytes() + " bytes");
        launch(ctx.function(MODULE, "entro_weights_to_f16"), "entro_weights_to_f16", strideBlocks(n), THREADS, s,
                Pointer.to(Pointer.to(w.params(firstRow, rows, cols)), Pointer.to(out.pointer())));
    }

    /** {@code x = hi + lo}, both f16, for the first {@code n} floats of x. */
    void splitF16(DeviceSlice x, DeviceSlice hi, DeviceSlice lo, long n, CudaStream s) {
        if (x.bytes() < 4 * n || hi.bytes() < 2 * n || lo.bytes() < 2 * n) throw new IllegalArgumentException("split of " + n + " floats");
        launch(ctx.function(MODULE, "entro_split_f16"), "entro_split_f16", strideBlocks(n), THREADS, s,
                Pointer.to(Pointer.to(x.pointer()), Pointer.to(hi.pointer()), Pointer.to(lo.pointer()), Pointer.to(new long[] {n})));
    }

    /** Blocks of a grid-stride kernel over n elements: at least 8 elements a thread (a few loads in flight each), at most {@link #MAX_STRIDE_BLOCKS}. */
    private static long strideBlocks(long n) { return Math.min(MAX_STRIDE_BLOCKS, (n + 8L * THREADS - 1) / (8L * THREADS)); }
}
