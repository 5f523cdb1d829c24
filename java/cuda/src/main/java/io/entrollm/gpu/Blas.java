package io.entrollm.gpu;

/**
 * cuBLAS, through whichever binding loads on this host: bytedeco's JavaCPP preset (links
 * libcublas.so.13, CUDA 13 hosts) or JCublas (links libcublas.so.12, CUDA 12 hosts). Both work on
 * memory allocated through JCuda in the same primary context.
 */
public interface Blas extends AutoCloseable {
    // cuBLAS / library_types.h enum values (ABI-stable)
    int OP_N = 0, OP_T = 1;
    int R_32F = 0, R_16F = 2, R_16BF = 14;
    int COMPUTE_32F = 68;
    int GEMM_DEFAULT = -1;

    /** Which binding and library is in use, for logs and benchmark headers. */
    String binding();

    void setStream(CudaStream stream);

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} in column-major terms (cublasGemmEx) with float32
     * accumulation. See {@link #linear} for the row-major weight case.
     */
    void gemmEx(int transA, int transB, int m, int n, int k, float alpha, DeviceSlice a, int aType, int lda,
                DeviceSlice b, int bType, int ldb, float beta, DeviceSlice c, int cType, int ldc);

    /**
     * {@code Y[t][o] = sum_i X[t][i] * W[o][i]} for a row-major PyTorch-layout weight {@code W[out][in]}
     * and row-major activations {@code X[tokens][in]} (same element type as W), output {@code Y[tokens][out]}.
     */
    default void linear(DeviceSlice w, DeviceSlice x, int inputType, DeviceSlice y, int outputType, int out, int in, int tokens) {
        // column-major view: Y^T (out x tokens) = W (out x in, stored as in x out with ld = in, transposed) * X^T (in x tokens)
        gemmEx(OP_T, OP_N, out, tokens, in, 1f, w, inputType, in, x, inputType, in, 0f, y, outputType, out);
    }

    @Override
    void close();

    /** The bindings, in the order {@link #open(CudaContext)} tries them. */
    java.util.List<String> BINDINGS = java.util.List.of("bytedeco", "jcublas");

    /**
     * Opens the binding named by the system property {@code entrollm.blas} ({@code bytedeco} or
     * {@code jcublas}) if set, else the first binding that loads; the reason each one failed is kept
     * in the exception.
     */
    static Blas open(CudaContext ctx) {
        String chosen = System.getProperty("entrollm.blas", "");
        if (!chosen.isEmpty()) return open(ctx, chosen);
        StringBuilder why = new StringBuilder();
        for (String binding : BINDINGS) {
            try {
                return open(ctx, binding);
            } catch (LinkageError | RuntimeException e) {
                why.append(why.isEmpty() ? "" : "; ").append(binding).append(": ").append(e.getMessage());
            }
        }
        throw new CudaException("no cuBLAS binding loads on this host: " + why);
    }

    /** Opens one binding by name: {@code bytedeco} (libcublas.so.13) or {@code jcublas} (libcublas.so.12). */
    static Blas open(CudaContext ctx, String binding) {
        ctx.makeCurrent();
        return switch (binding) {
            case "bytedeco" -> new BytedecoBlas();
            case "jcublas" -> new JCublasBlas();
            default -> throw new CudaException("unknown cuBLAS binding '" + binding + "' (entrollm.blas): bytedeco or jcublas");
        };
    }
}
