package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

import java.util.List;

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

    CudaContext context() { return ctx; }

    /** The kernel's dynamic shared memory: the table in whole 32-bit words, then the warps' tiles (huffman_decode.cu). */
    static int sharedBytes(int tableBits) {
        int tableWords = ((1 << tableBits) + 1) / 2;
        return 4 * (tableWords + THREADS_PER_BLOCK / 32 * TILE_WORDS);
    }

    /** 32 rows of 33 words (cuda-kernels/huffman_decode.cu kTile, kTileStride). */
    static final int TILE_WORDS = 32 * 33;

    /** The batched decode into each entry's packed symbol form (BatchEntry.out_form). */
    static final String BATCH_SYMBOLS_KERNEL = "entro_decode_batch_symbols";
    /** sizeof(entro::BatchEntry) (cuda-kernels/entro_format.cuh). */
    static final int BATCH_ENTRY_BYTES = 112;

    /** Blocks one tensor takes in a grid. */
    static int blocksFor(DecodeParams p) { return (p.nChunks() + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK; }

    /**
     * Host image of {@code entro::BatchEntry[]} for tensors whose symbols go to {@code outs} in
     * {@code forms} (entro::WeightForm): each entry's parameters, output address, first block and form;
     * returns the bytes and, through {@code gridBlocks[0]}, the grid's total block count.
     */
    static byte[] batchEntries(List<DecodeParams> params, List<Long> outs, List<Integer> forms, int[] gridBlocks) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(params.size() * BATCH_ENTRY_BYTES).order(java.nio.ByteOrder.nativeOrder());
        long first = 0;
        for (int i = 0; i < params.size(); i++) {
            DecodeParams p = params.get(i);
            b.put(i * BATCH_ENTRY_BYTES, p.toBytes());
            b.putLong(i * BATCH_ENTRY_BYTES + DecodeParams.BYTES, outs.get(i));
            b.putInt(i * BATCH_ENTRY_BYTES + DecodeParams.BYTES + 8, Math.toIntExact(first));
            b.putInt(i * BATCH_ENTRY_BYTES + DecodeParams.BYTES + 12, forms.get(i));
            first += blocksFor(p);
        }
        gridBlocks[0] = Math.toIntExact(first);
        return b.array();
    }

    /** Launches the batched decode into symbols of {@code count} entries (already in device memory) over {@code gridBlocks} blocks. */
    void launchBatch(DeviceBuffer entries, int count, int gridBlocks, int maxTableBits, CudaStream stream) {
        if (count == 0 || gridBlocks == 0) return;
        if (entries.bytes() < (long) count * BATCH_ENTRY_BYTES) throw new IllegalArgumentException(count + " batch entries in " + entries.bytes() + " bytes");
        CUfunction f = ctx.function(MODULE, BATCH_SYMBOLS_KERNEL);
        int shared = sharedBytes(maxTableBits);
        if (shared > DEFAULT_SHARED_LIMIT) {
            Cuda.check(JCudaDriver.cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared),
                    "cuFuncSetAttribute(max dynamic shared memory = " + shared + ")");
        }
        Pointer params = Pointer.to(Pointer.to(entries.pointer()), Pointer.to(new int[] {count}));
        Cuda.check(JCudaDriver.cuLaunchKernel(f, gridBlocks, 1, 1, THREADS_PER_BLOCK, 1, 1, shared, stream.handle(), params, null),
                "cuLaunchKernel(" + BATCH_SYMBOLS_KERNEL + ", " + count + " tensors, grid " + gridBlocks + ", shared " + shared + ")");
    }

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
        int grid = blocksFor(p);
        Pointer params = Pointer.to(Pointer.to(p.toBytes()), Pointer.to(out.pointer()));
        Cuda.check(JCudaDriver.cuLaunchKernel(f, grid, 1, 1, THREADS_PER_BLOCK, 1, 1, shared, stream.handle(), params, null),
                "cuLaunchKernel(" + type.kernel + ", grid " + grid + ", block " + THREADS_PER_BLOCK + ", shared " + shared + ")");
    }
}
