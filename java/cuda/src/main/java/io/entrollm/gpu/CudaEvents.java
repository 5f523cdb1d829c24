package io.entrollm.gpu;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/** Times GPU work on a stream with a pair of CUDA events. */
public final class CudaEvents implements AutoCloseable {
    private final CUevent start = new CUevent(), stop = new CUevent();

    public CudaEvents() {
        Cuda.check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
        Cuda.check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
    }

    /** Milliseconds the work enqueued by {@code work} took on {@code stream}. */
    public float time(CudaStream stream, Runnable work) {
        Cuda.check(JCudaDriver.cuEventRecord(start, stream.handle()), "cuEventRecord");
        work.run();
        Cuda.check(JCudaDriver.cuEventRecord(stop, stream.handle()), "cuEventRecord");
        Cuda.check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
        float[] ms = new float[1];
        Cuda.check(JCudaDriver.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
        return ms[0];
    }

    @Override
    public void close() {
        JCudaDriver.cuEventDestroy(start);
        JCudaDriver.cuEventDestroy(stop);
    }
}
