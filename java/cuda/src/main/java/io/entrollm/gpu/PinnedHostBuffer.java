package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory (cuMemAllocHost): the source of asynchronous host-to-device copies, which
 * from pageable memory would be staged and serialised by the driver. One buffer is at most 2 GiB
 * (a Java ByteBuffer view); the streamed mode allocates one per layer.
 */
final class PinnedHostBuffer implements AutoCloseable {
    private final Pointer ptr = new Pointer();
    private final long bytes;
    private boolean freed;

    PinnedHostBuffer(CudaContext ctx, long bytes, String what) {
        if (bytes > Integer.MAX_VALUE) throw new IllegalArgumentException(what + ": " + bytes + " bytes of pinned memory in one piece (at most 2 GiB)");
        this.bytes = bytes;
        int status = JCudaDriver.cuMemAllocHost(ptr, Math.max(1, bytes));
        if (status != 0) {
            throw new CudaException("cannot pin " + bytes + " bytes of host memory for " + what + ": " + jcuda.driver.CUresult.stringFor(status)
                    + " (the streamed mode keeps every layer's stored weights in pinned memory)");
        }
    }

    /** The buffer as a memory segment, to fill from the host. */
    MemorySegment segment() { return MemorySegment.ofBuffer(live().getByteBuffer(0, bytes)); }

    Pointer pointer() { return live(); }

    long bytes() { return bytes; }

    private Pointer live() {
        if (freed) throw new IllegalStateException("pinned buffer already freed");
        return ptr;
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        JCudaDriver.cuMemFreeHost(ptr);
    }
}
