package io.entrollm.gpu;

import io.entrollm.tensor.DType;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * Host wrapper of cuda-kernels/widen.cu: f16/bf16 weights as stored to float32 (one thread per element,
 * 256 per block, grid-stride), and f32 as a device-to-device copy. All asynchronous on the given stream.
 */
final class WidenLauncher {
    static final String MODULE = "widen";
    static final int THREADS_PER_BLOCK = 256;
    /** Enough blocks to fill any current GPU; the grid-stride loop covers the rest. */
    static final int MAX_BLOCKS = 65_535;

    private final CudaContext ctx;

    WidenLauncher(CudaContext ctx) { this.ctx = ctx; }

    static String kernel(DType in) {
        return switch (in) {
            case BF16 -> "entro_widen_bf16_f32";
            case F16 -> "entro_widen_f16_f32";
            default -> throw new IllegalArgumentException("no widening kernel for " + in + " (f16 and bf16; f32 is copied)");
        };
    }

    /** Writes {@code n} float32 values to {@code out} from {@code n} values of type {@code in} in {@code src}. */
    void launch(DType in, DeviceSlice src, long n, DeviceSlice out, CudaStream stream) {
        if (src.bytes() < in.byteSize(n)) throw new IllegalArgumentException("input of " + src.bytes() + " bytes is too small for " + n + " x " + in);
        if (out.bytes() < 4 * n) throw new IllegalArgumentException("output of " + out.bytes() + " bytes is too small for " + n + " floats");
        if (n == 0) return;
        if (in == DType.F32) {
            Cuda.check(JCudaDriver.cuMemcpyDtoDAsync(out.pointer(), src.pointer(), 4 * n, stream.handle()), "cuMemcpyDtoDAsync (f32 weights)");
            return;
        }
        CUfunction f = ctx.function(MODULE, kernel(in));
        int blocks = (int) Math.min(MAX_BLOCKS, (n + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK);
        Pointer params = Pointer.to(Pointer.to(new long[] {src.address()}), Pointer.to(out.pointer()), Pointer.to(new long[] {n}));
        Cuda.check(JCudaDriver.cuLaunchKernel(f, blocks, 1, 1, THREADS_PER_BLOCK, 1, 1, 0, stream.handle(), params, null),
                "cuLaunchKernel(" + kernel(in) + ", grid " + blocks + ")");
    }
}
