package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/** Device memory owned by one object; freed exactly once by {@link #close()}. */
public final class DeviceBuffer implements AutoCloseable {
    /** A device pointer whose raw address can be handed to other CUDA bindings (cuBLAS via JavaCPP). */
    static final class RawDevicePointer extends CUdeviceptr {
        long address() { return getNativePointer(); }
    }

    private final RawDevicePointer ptr = new RawDevicePointer();
    private final long bytes;
    private boolean freed;

    private DeviceBuffer(CudaContext ctx, long bytes, String what) {
        this.bytes = bytes;
        int status = JCudaDriver.cuMemAlloc(ptr, Math.max(1, bytes));
        if (status != 0) {
            long[] mem = ctx.memoryInfo();
            throw new CudaException("cannot allocate " + bytes + " bytes of GPU memory for " + what + " (" + mem[0]
                    + " of " + mem[1] + " bytes free): " + jcuda.driver.CUresult.stringFor(status));
        }
    }

    public static DeviceBuffer allocate(CudaContext ctx, long bytes, String what) { return new DeviceBuffer(ctx, bytes, what); }

    /** A new buffer holding a copy of {@code host} (a direct/mapped segment or a heap array). */
    public static DeviceBuffer copyOf(CudaContext ctx, MemorySegment host, String what) {
        DeviceBuffer b = allocate(ctx, host.byteSize(), what);
        try {
            b.upload(host);
            return b;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    public void upload(MemorySegment host) {
        if (host.byteSize() > bytes) throw new IllegalArgumentException("upload of " + host.byteSize() + " bytes into " + bytes);
        if (host.byteSize() == 0) return;
        Pointer src = host.isNative() ? Pointer.to(host.asByteBuffer()) : Pointer.to(ByteBuffer.wrap(host.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
        Cuda.check(JCudaDriver.cuMemcpyHtoD(live(), src, host.byteSize()), "cuMemcpyHtoD");
    }

    public byte[] downloadBytes() {
        byte[] out = new byte[Math.toIntExact(bytes)];
        if (bytes > 0) Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), live(), bytes), "cuMemcpyDtoH");
        return out;
    }

    public float[] downloadFloats() { return downloadFloats(Math.toIntExact(bytes / 4)); }

    /** The first {@code count} floats of the buffer. */
    public float[] downloadFloats(int count) {
        if (count < 0 || 4L * count > bytes) throw new IllegalArgumentException("download of " + count + " floats from " + bytes + " bytes");
        float[] out = new float[count];
        if (count > 0) Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), live(), 4L * count), "cuMemcpyDtoH");
        return out;
    }

    public short[] downloadShorts() {
        short[] out = new short[Math.toIntExact(bytes / 2)];
        if (bytes > 0) Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), live(), bytes), "cuMemcpyDtoH");
        return out;
    }

    /** The whole buffer as a slice. */
    public DeviceSlice whole() { return new DeviceSlice(this, 0, bytes); }

    public DeviceSlice slice(long offset, long length) { return new DeviceSlice(this, offset, length); }

    public void zero() { Cuda.check(JCudaDriver.cuMemsetD8(live(), (byte) 0, bytes), "cuMemsetD8"); }

    public CUdeviceptr pointer() { return live(); }

    /** The raw device address (for cuBLAS through JavaCPP). */
    public long address() { return live().address(); }

    public long bytes() { return bytes; }

    private RawDevicePointer live() {
        if (freed) throw new IllegalStateException("device buffer already freed");
        return ptr;
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        JCudaDriver.cuMemFree(ptr);
    }
}
