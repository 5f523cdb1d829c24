package io.entrollm.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared set-up of the GPU tests: they skip, with the reason, where no CUDA device can be used. */
final class GpuTests {
    private GpuTests() {}

    /**
     * The first GPU, or a skip where none can be used. Where a run must exercise the GPU path (the
     * CUDA simulator runs of `make test` set {@code entrollm.requireGpu}), no device is a failure.
     */
    static CudaContext openOrSkip() {
        if (Boolean.getBoolean("entrollm.requireGpu")) {
            assertTrue(Cuda.available(), () -> "entrollm.requireGpu is set, but no CUDA device can be used: " + Cuda.unavailableReason());
        }
        assumeTrue(Cuda.available(), () -> "no CUDA device: " + Cuda.unavailableReason());
        return CudaContext.open(0);
    }

    /**
     * A cuBLAS binding by name. On the CUDA simulator both bindings must load (it provides
     * libcublas.so.13 and .so.12), so a failure there fails the test; on a real GPU a binding whose
     * library the host lacks (JCublas on a CUDA 13 host) is skipped, saying why.
     */
    static Blas openBlasOrSkip(CudaContext ctx, String binding) {
        try {
            return Blas.open(ctx, binding);
        } catch (LinkageError | RuntimeException e) {
            if (ctx.simulated()) throw e;
            assumeTrue(false, () -> binding + " cuBLAS does not load on this host: " + e.getMessage());
            throw e;
        }
    }
}
