package io.entrollm.gpu;

import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/** A CUDA stream; {@link #synchronize()} surfaces asynchronous kernel errors. */
public final class CudaStream implements AutoCloseable {
    /** Exposes the raw handle for other bindings (cuBLAS). */
    static final class RawStream extends CUstream {
        long address() { return getNativePointer(); }
    }

    private final RawStream stream = new RawStream();
    private boolean closed;

    public CudaStream() { Cuda.check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate"); }

    public CUstream handle() { return stream; }

    long address() { return stream.address(); }

    public void synchronize() { Cuda.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize"); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        JCudaDriver.cuStreamDestroy(stream);
    }
}
