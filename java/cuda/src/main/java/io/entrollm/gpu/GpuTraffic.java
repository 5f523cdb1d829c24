package io.entrollm.gpu;

/**
 * GPU memory bytes one forward pass reads and writes, by the kernels' own accounting: each launch
 * adds what its header comment says it reads and writes for the shapes it was given (a GEMV reads
 * its weight view once per register batch of tokens; an f16 prompt GEMM its weights' form, their f16
 * copy written and read twice; attention the cached keys and values of every position before each
 * query). Caches are not modelled: a byte counted is a byte the kernel asks for.
 *
 * @param weights     weight bytes read by the matmuls, norms and the embedding gather (and their f16 copies)
 * @param decode      per-pass decode traffic of the compressed and streamed modes: stored bytes copied in and
 *                    read, symbols and forms written
 * @param kvCache     keys and values (f16) read by attention and written by the cache append
 * @param activations activations read and written by every kernel (the k/v projections' outputs land in the cache)
 */
public record GpuTraffic(long weights, long decode, long kvCache, long activations) {
    public long total() { return weights + decode + kvCache + activations; }

    /** Sums traffic while a pass is enqueued. */
    static final class Counter {
        long weights, decode, kvCache, activations;

        void reset() { weights = decode = kvCache = activations = 0; }

        GpuTraffic snapshot() { return new GpuTraffic(weights, decode, kvCache, activations); }
    }
}
