package io.entrollm.gpu;

import io.entrollm.infer.LanguageModel;

/** Opens GPU sessions for {@link LanguageModel}s; each session owns its CUDA context reference and weights. */
public final class GpuSessions {
    private GpuSessions() {}

    /** A session on GPU {@code ordinal}; closing the session frees its GPU memory and releases the context. */
    public static LanguageModel.Session open(LanguageModel lm, int ordinal) {
        return open(lm, ordinal, io.entrollm.residency.ResidencyMode.DECODED);
    }

    /** A session in a given residency mode (streamed from pinned host memory). */
    public static LanguageModel.Session open(LanguageModel lm, int ordinal, io.entrollm.residency.ResidencyMode mode) {
        return open(lm, ordinal, mode, io.entrollm.residency.StreamSource.HOST);
    }

    /** A session in a given residency mode; {@code streamFrom} applies to the streamed mode. */
    public static LanguageModel.Session open(LanguageModel lm, int ordinal, io.entrollm.residency.ResidencyMode mode,
                                             io.entrollm.residency.StreamSource streamFrom) {
        return open(lm, ordinal, mode, streamFrom, false);
    }

    /** As above; {@code fused} (compressed mode only) multiplies generated tokens straight from the coded weights. */
    public static LanguageModel.Session open(LanguageModel lm, int ordinal, io.entrollm.residency.ResidencyMode mode,
                                             io.entrollm.residency.StreamSource streamFrom, boolean fused) {
        CudaContext ctx = CudaContext.open(ordinal);
        try {
            LlamaGpu gpu = LlamaGpu.load(ctx, lm.source(), mode, streamFrom, fused);
            return lm.openSession(new ContextOwningLm(gpu, ctx));
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** Closes the context after the model. */
    private record ContextOwningLm(LlamaGpu gpu, CudaContext ctx) implements io.entrollm.infer.CausalLm {
        @Override public io.entrollm.model.ModelConfig config() { return gpu.config(); }

        @Override public String device() { return gpu.device(); }

        @Override public void startSequence(int capacity) { gpu.startSequence(capacity); }

        @Override public float[] forward(int[] tokens, int pos0, int logitRows) { return gpu.forward(tokens, pos0, logitRows); }

        @Override
        public void close() {
            try {
                gpu.close();
            } finally {
                ctx.close();
            }
        }
    }
}
