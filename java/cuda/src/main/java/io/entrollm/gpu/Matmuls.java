package io.entrollm.gpu;

/**
 * The forward pass's matrix products, each from its weight's GPU form ({@link GpuWeight}), with the
 * bytes each moves counted into a {@link GpuTraffic.Counter}: float32 weights through cuBLAS SGEMM;
 * up to {@link GemvLauncher#TOKENS_PER_PASS} tokens (generation) through the GEMV kernels of
 * cuda-kernels/gemv.cu, which read the form and dequantize on the fly, or, in the fused mode, through
 * huffman_gemv.cu straight from the coded weights; longer batches (prompts, perplexity windows) through
 * cuBLAS GemmEx on f16: the weight's rows converted to f16 a slice at a time (at most
 * {@code f16Elements} weights, so the head goes through in slices), the activations split into two f16
 * halves (hi + lo, about 22 bits kept), f32 accumulation. Owns the prompt path's f16 scratch.
 */
final class Matmuls implements AutoCloseable {
    private final CudaContext ctx;
    private final Blas blas;
    private final GemvLauncher gemv;
    private final CudaStream stream;
    private final long f16Elements;
    private final int maxInputs;
    private DeviceBuffer xHi, xLo, w16;
    private int scratchTokens;

    /**
     * @param f16Elements the weights of one f16 slice (the largest decoder-layer matrix)
     * @param maxInputs   the widest input of any matmul
     */
    Matmuls(CudaContext ctx, Blas blas, GemvLauncher gemv, CudaStream stream, long f16Elements, int maxInputs) {
        this.ctx = ctx;
        this.blas = blas;
        this.gemv = gemv;
        this.stream = stream;
        this.f16Elements = f16Elements;
        this.maxInputs = maxInputs;
    }

    /** Bytes of {@code elements} weights of {@code w} with their share of its scales. */
    static long viewBytes(GpuWeight w, long elements) {
        return (long) Math.ceil((double) w.bytes() * elements / w.elements());
    }

    /** Makes room for batches of {@code tokens} tokens (f16 scratch only once a batch is longer than a GEMV pass). */
    void ensure(int tokens) {
        if (tokens <= GemvLauncher.TOKENS_PER_PASS || tokens <= scratchTokens) return;
        closeScratch();
        long t = tokens;
        xHi = DeviceBuffer.allocate(ctx, 2 * t * maxInputs, "activations as f16 (high part)");
        xLo = DeviceBuffer.allocate(ctx, 2 * t * maxInputs, "activations as f16 (low part)");
        w16 = DeviceBuffer.allocate(ctx, 2 * f16Elements, "weights as f16 (prompt path)");
        scratchTokens = tokens;
    }

    /**
     * {@code out[t][r] = sum_c W[firstRow + r][c] * in[t][c]} for {@code r < rows}, {@code c < cols}:
     * rows {@code [firstRow, firstRow + rows)} of {@code w} (a fused tensor's view), or of {@code fused}
     * when generation multiplies straight from the coded weights (else null).
     */
    void linear(GpuWeight w, FormDecoder.Coded fused, long firstRow, int rows, int cols, DeviceSlice in, DeviceSlice out, int tokens,
                GpuTraffic.Counter traffic) {
        long elements = (long) rows * cols;
        long view = viewBytes(w, elements);
        traffic.activations += 4L * tokens * (cols + rows);
        if (fused != null) {
            gemv.huffman(fused.params(), firstRow, rows, cols, in, out, tokens, stream);
            traffic.weights += (long) Math.ceil((double) fused.bytes() * elements / fused.params().nSymbols());
        } else if (w.form() == GpuWeight.Form.F32) {
            traffic.weights += view;
            blas.linear(w.f32().buffer().slice(w.f32().offset() + 4 * firstRow * cols, 4 * elements), in, Blas.R_32F, out, Blas.R_32F, rows, cols, tokens);
        } else if (tokens <= GemvLauncher.TOKENS_PER_PASS) {
            gemv.gemv(w, firstRow, rows, cols, in, out, tokens, stream);
            traffic.weights += view * ((tokens + GemvLauncher.TOKENS_PER_PASS - 1) / GemvLauncher.TOKENS_PER_PASS);
        } else {
            ensure(tokens);
            // the form read once and written as f16, which both GEMMs read; the halves written and read, the second GEMM's C read
            traffic.weights += view + 3 * 2L * elements;
            traffic.activations += 2 * 2 * 2L * tokens * cols + 4L * tokens * rows;
            long n = (long) tokens * cols;
            gemv.splitF16(in, xHi.slice(0, 2 * n), xLo.slice(0, 2 * n), n, stream);
            int sliceRows = (int) Math.max(1, Math.min(rows, f16Elements / cols));
            for (int r0 = 0; r0 < rows; r0 += sliceRows) {
                int slice = Math.min(sliceRows, rows - r0);
                gemv.toF16(w, firstRow + r0, slice, cols, w16.slice(0, 2L * slice * cols), stream);
                // column-major: Y^T[r0 .. r0 + slice) (ld rows) = W16 (slice x cols, transposed) * X^T (cols x tokens)
                DeviceSlice y = out.buffer().slice(out.offset() + 4L * r0, out.bytes() - 4L * r0);
                blas.gemmEx(Blas.OP_T, Blas.OP_N, slice, tokens, cols, 1f, w16.whole(), Blas.R_16F, cols, xHi.whole(), Blas.R_16F, cols, 0f,
                        y, Blas.R_32F, rows);
                blas.gemmEx(Blas.OP_T, Blas.OP_N, slice, tokens, cols, 1f, w16.whole(), Blas.R_16F, cols, xLo.whole(), Blas.R_16F, cols, 1f,
                        y, Blas.R_32F, rows);
            }
        }
    }

    private void closeScratch() {
        for (DeviceBuffer b : new DeviceBuffer[] {xHi, xLo, w16}) if (b != null) b.close();
        xHi = xLo = w16 = null;
        scratchTokens = 0;
    }

    @Override
    public void close() { closeScratch(); }
}
