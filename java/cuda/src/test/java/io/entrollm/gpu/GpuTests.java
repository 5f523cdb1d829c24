package io.entrollm.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared set-up of the GPU tests: they skip, with the reason, where no CUDA device can be used. */
final class GpuTests {
    private GpuTests() {}

    static CudaContext openOrSkip() {
        assumeTrue(Cuda.available(), () -> "no CUDA device: " + Cuda.unavailableReason());
        return CudaContext.open(0);
    }
}
