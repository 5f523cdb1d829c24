package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/** Host wrapper of cuda-kernels/packed_decode.cu: one thread per weight, 256 per block. */
final class PackedDecodeLauncher {
    static final String MODULE = "packed_decode";
    static final int THREADS_PER_BLOCK = 256;

    private final CudaContext ctx;

    PackedDecodeLauncher(CudaContext ctx) { this.ctx = ctx; }

    static String kernel(OutputType type) {
        return switch (type) {
            case F32 -> "entro_unpack_dequant_f32";
            case F16 -> "entro_unpack_dequant_f16";
            case BF16 -> "entro_unpack_dequant_bf16";
            case SYMBOLS_U8 -> throw new IllegalArgumentException("packed tensors are already symbols; read the PACKED section instead");
        };
    }

    void launch(OutputType type, UnpackParams p, DeviceBuffer out, CudaStream stream) {
        if (p.bits() < 2 || p.bits() > 8) throw new IllegalArgumentException("bits " + p.bits() + " not in 2..8");
        if (out.bytes() < p.nSymbols() * type.bytesPerElement()) {
            throw new IllegalArgumentException("output buffer of " + out.bytes() + " bytes is too small for " + p.nSymbols() + " x " + type);
        }
        if (p.nSymbols() == 0) return;
        CUfunction f = ctx.function(MODULE, kernel(type));
        long blocks = (p.nSymbols() + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large for one 1-D grid: " + p.nSymbols() + " weights");
        Pointer params = Pointer.to(Pointer.to(p.toBytes()), Pointer.to(out.pointer()));
        Cuda.check(JCudaDriver.cuLaunchKernel(f, (int) blocks, 1, 1, THREADS_PER_BLOCK, 1, 1, 0, stream.handle(), params, null),
                "cuLaunchKernel(" + kernel(type) + ", grid " + blocks + ")");
    }
}
