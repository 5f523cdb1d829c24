package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Host wrapper of the kernels in cuda-kernels/huffman_decode.cu: checks the arguments, computes
 * the launch geometry (one thread per chunk, {@link #THREADS_PER_BLOCK} per block; dynamic shared
 * memory = the decode table + one 32 x 33-word staging tile per warp), launches on a stream and checks
 * the launch status.
 */
final class HuffmanDecodeLauncher {
    static final String MODULE = "huffman_decode";
    static final int THREADS_PER_BLOCK = 128;
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext ctx;

    HuffmanDecodeLauncher(CudaContext ctx) { this.ctx = ctx; }

    /** The kernel's dynamic shared memory: the table in whole 32-bit words, then the warps' tiles (huffman_decode.cu). */
    static int sharedBytes(int tableBits) {
        int tableWords = ((1 << tableBits) + 1) / 2;
        return 4 * (tableWords + THREADS_PER_BLOCK / 32 * TILE_WORDS);
    }

    /** 32 rows of 33 words (cuda-kernels/huffman_decode.cu kTile, kTileStride). */
    static final int TILE_WORDS = 32 * 33;

    void launch(OutputType type, DecodeParams p, DeviceBuffer out, CudaStream stream) {
        if (p.tableBits() < 1 || p.tableBits() > 16) throw new IllegalArgumentException("table bits " + p.tableBits() + " not in 1..16");
        if (p.chunkSymbols() < 1) throw new IllegalArgumentException("chunk size must be positive");
        if (out.bytes() < p.nSymbols() * type.bytesPerElement) {
            throw new IllegalArgumentException("output buffer of " + out.bytes() + " bytes is too small for " + p.nSymbols() + " x " + type);
        }
        if (p.nChunks() == 0) return;
        CUfunction f = ctx.function(MODULE, type.kernel);
        int shared = sharedBytes(p.tableBits());
        if (shared > DEFAULT_SHARED_LIMIT) {
            Cuda.check(JCudaDriver.cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared),
                    "cuFuncSetAttribute(max dynamic shared memory = " + shared + ")");
        }
        int grid = (p.nChunks() + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK;
        Pointer params = Pointer.to(Pointer.to(p.toBytes()), Pointer.to(out.pointer()));
        Cuda.check(JCudaDriver.cuLaunchKernel(f, grid, 1, 1, THREADS_PER_BLOCK, 1, 1, shared, stream.handle(), params, null),
                "cuLaunchKernel(" + type.kernel + ", grid " + grid + ", block " + THREADS_PER_BLOCK + ", shared " + shared + ")");
    }
}
